// The runs list: re-read every few seconds, so running runs' status, progress and key
// metrics advance (and new runs appear) without a reload.
import { refresh, every } from "./refresh.js";

every(2000, async () => {
  await refresh(["runs-list"]);
  document.body.dataset.refreshed = String(Date.now());
});
