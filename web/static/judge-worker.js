// Web Worker that judges prompt/response rows with the built-in judge module through the
// WASI shim. It receives {rows} and posts {progress}, then {verdicts} or {error}.
import { loadModule } from "/static/wasi.js";

let judge;
onmessage = async (msg) => {
  try {
    if (!judge) {
      const res = await fetch("/static/modules/judge.wasm");
      if (!res.ok) throw new Error(`fetching the judge module: HTTP ${res.status}`);
      judge = await loadModule(new Uint8Array(await res.arrayBuffer()));
    }
    const rows = msg.data.rows, verdicts = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i];
      verdicts.push(judge.run({ prompt: r.prompt || "", response: r.response || "", category: r.category || "" }));
      if (i % 25 === 24) postMessage({ progress: i + 1, total: rows.length });
    }
    postMessage({ verdicts, judge: `${judge.manifest.name} ${judge.manifest.version}` });
  } catch (err) {
    postMessage({ error: String(err && err.message || err) });
  }
};
