// The runs list: re-read every few seconds, so running runs' status, progress and key
// metrics advance (and new runs appear) without a reload. The search box and the filters
// apply as they change (the address keeps them, so a refresh re-reads the same view), and
// a delete asks first.
import { refresh, every, confirmForms } from "./refresh.js";

const form = document.getElementById("runs-filter");
let typing;

async function apply() {
  const q = new URLSearchParams();
  for (const [k, v] of new FormData(form)) if (v !== "") q.set(k, v);
  const s = q.toString();
  history.replaceState(null, "", s ? `/?${s}` : "/");
  await refresh(["runs-list"]);
  document.body.dataset.refreshed = String(Date.now());
}

form.addEventListener("input", (ev) => {
  clearTimeout(typing);
  typing = setTimeout(apply, ev.target.type === "search" ? 250 : 0);
});
form.addEventListener("submit", (ev) => { ev.preventDefault(); clearTimeout(typing); apply(); });

confirmForms();

every(2000, async () => {
  await refresh(["runs-list"]);
  document.body.dataset.refreshed = String(Date.now());
});
