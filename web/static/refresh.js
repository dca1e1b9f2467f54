// refresh re-reads this page from the server and swaps in the elements with the given ids,
// so server-rendered parts (status, key metrics, heatmaps, tables) stay current without a
// reload. Nothing is rendered twice: the server's templ components stay the only source.
export async function refresh(ids) {
  const res = await fetch(location.href, { headers: { Accept: "text/html" }, cache: "no-store" });
  if (!res.ok) return false;
  const fresh = new DOMParser().parseFromString(await res.text(), "text/html");
  for (const id of ids) {
    const cur = document.getElementById(id), next = fresh.getElementById(id);
    if (cur && next) cur.replaceWith(document.importNode(next, true));
  }
  return true;
}

// every calls fn every ms milliseconds while the page is visible, one call at a time.
export function every(ms, fn) {
  let busy = false;
  setInterval(async () => {
    if (busy || document.hidden) return;
    busy = true;
    try { await fn(); } catch { /* the server is restarting: try again next time */ } finally { busy = false; }
  }, ms);
}

// confirmForms asks before submitting a form with data-confirm (deleting a run), also one
// swapped in by refresh.
export function confirmForms() {
  document.addEventListener("submit", (ev) => {
    const f = ev.target.closest("form[data-confirm]");
    if (f && !confirm(f.dataset.confirm)) ev.preventDefault();
  });
}
