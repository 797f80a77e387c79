// The backends every parametrised suite runs against. The reference backend is the oracle;
// faster backends are added here as they land.

import type { Backend } from '../../src/backend/backend.ts';
import { createRefBackend } from '../../src/backend/ref/ref-backend.ts';

export interface NamedBackend {
  name: string;
  make: () => Backend;
}

export const BACKENDS: NamedBackend[] = [{ name: 'ref', make: createRefBackend }];
