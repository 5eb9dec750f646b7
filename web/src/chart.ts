// A minimal line chart on a canvas: the loss curve while a network trains. Log-scaled y so both
// the first big drop and the long tail stay visible.

/** Draw `values` (one per step) as a line, y on a log scale, with the first and last value. */
export function drawLossCurve(
  canvas: HTMLCanvasElement,
  values: readonly number[],
  label = 'loss',
): void {
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const { width, height } = canvas;
  const pad = { left: 44, right: 10, top: 10, bottom: 22 };
  ctx.fillStyle = 'white';
  ctx.fillRect(0, 0, width, height);
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#666';
  ctx.fillText(`${label} (log scale) per step`, pad.left, height - 6);
  const finite = values.filter((v) => Number.isFinite(v) && v > 0);
  if (finite.length < 2) return;
  const logs = finite.map(Math.log10);
  let lo = Math.min(...logs);
  let hi = Math.max(...logs);
  if (hi - lo < 0.5) [lo, hi] = [(lo + hi) / 2 - 0.25, (lo + hi) / 2 + 0.25];
  const x = (i: number): number =>
    pad.left + (i / (finite.length - 1)) * (width - pad.left - pad.right);
  const y = (v: number): number =>
    pad.top + ((hi - Math.log10(v)) / (hi - lo)) * (height - pad.top - pad.bottom);
  // Gridlines at powers of ten.
  ctx.strokeStyle = '#eee';
  ctx.fillStyle = '#666';
  for (let e = Math.ceil(lo); e <= Math.floor(hi); e++) {
    ctx.beginPath();
    ctx.moveTo(pad.left, y(10 ** e));
    ctx.lineTo(width - pad.right, y(10 ** e));
    ctx.stroke();
    ctx.fillText(`1e${e}`, 4, y(10 ** e) + 4);
  }
  ctx.strokeStyle = '#1f77b4';
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  finite.forEach((v, i) => (i === 0 ? ctx.moveTo(x(i), y(v)) : ctx.lineTo(x(i), y(v))));
  ctx.stroke();
}
