// How numbers, durations and tokens are written on the page.

/** Four significant digits; exponent form for the very small and very large (learning rates, ratios). */
export function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? '—' : v > 0 ? '∞' : '−∞';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

/** A y-axis tick: short, exponent form below 1e-3 and from 1e5 ("2e-4"). */
export function fmtTick(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2).replace(/\.?0+e/, 'e');
  return String(Number(v.toPrecision(6)));
}

/** Seconds as "42 s", "3 min 05 s", "2 h 07 min". */
export function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return '—';
  if (s < 60) return `${Number(s.toPrecision(3))} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** A wall-time axis tick: compact (s, min, h) at the axis's scale. */
export function fmtWallTick(s: number, span: number): string {
  if (span < 120) return `${Number(s.toPrecision(3))}s`;
  if (span < 7200) return `${Number((s / 60).toPrecision(3))}m`;
  return `${Number((s / 3600).toPrecision(3))}h`;
}

export function fmtStep(v: number): string {
  return Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '—';
}

/** A token as it is shown in an attention map's labels: whitespace and control characters made visible. */
export function showToken(t: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this makes visible
  return t.replace(/[\u0000-\u001f\u007f ]/g, (ch) => {
    switch (ch) {
      case '\n':
        return '↵';
      case '\t':
        return '⇥';
      case ' ':
        return '␣';
      case '\r':
        return '␍';
      default:
        return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
    }
  });
}
