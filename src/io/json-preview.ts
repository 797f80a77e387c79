// A short rendering of any parsed JSON value for an error message, for every reader of saved files.

/**
 * In JSON's notation, at most two levels deep, six elements and 40 characters of a string. Not
 * JSON.stringify: a corrupt file can nest arrays thousands deep (stringify then overflows the stack)
 * or hold megabytes in one field.
 */
export function previewJSON(v: unknown, depth = 0): string {
  if (Array.isArray(v)) {
    if (depth >= 2) return v.length === 0 ? '[]' : '[…]';
    return `[${v.slice(0, 6).map((x) => previewJSON(x, depth + 1)).join(',')}${v.length > 6 ? ',…' : ''}]`;
  }
  if (typeof v === 'object' && v !== null) return '{…}';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  return String(v);
}
