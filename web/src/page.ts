// Small helpers every page uses: typed element lookup and a status list that tests can read.

/** The element with this id, checked to be of the expected class. */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`page: #${id} is missing or not a ${type.name}`);
  return el;
}

/** Show named values as the rows of a <dl>. */
export function showStatus(dl: HTMLElement, values: Record<string, string | number>): void {
  dl.replaceChildren();
  for (const [key, value] of Object.entries(values)) {
    const dt = document.createElement('dt');
    dt.textContent = key;
    const dd = document.createElement('dd');
    dd.textContent = String(value);
    dl.append(dt, dd);
  }
}

/** A number formatted to a fixed number of decimals, with a real minus sign. */
export function fmt(x: number, digits = 3): string {
  return x.toFixed(digits).replace('-', '−');
}
