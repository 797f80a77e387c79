// Which backend new tensors go to when the caller names none. The reference backend is the default
// until a faster one is installed with setDefaultBackend (the CLI does this from --backend).

import type { Backend } from '../backend/backend.ts';
import { createRefBackend } from '../backend/ref/ref-backend.ts';

let defaultBackend: Backend | null = null;

export function getDefaultBackend(): Backend {
  defaultBackend ??= createRefBackend();
  return defaultBackend;
}

export function setDefaultBackend(b: Backend): void {
  defaultBackend = b;
}
