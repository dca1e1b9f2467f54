// A minimal WASI (wasi_snapshot_preview1) shim that runs aegis modules (ABI v1) in the
// browser and in Node, unchanged from what native/sandbox runs. It gives a module what
// the host gives it natively: clocks, random bytes, stdout/stderr (captured, bounded),
// empty args/environ/stdin, and no files (every other call fails with ENOSYS/EBADF).
const ESUCCESS = 0, EBADF = 8, ENOSYS = 52, MAX_STDIO = 64 << 10;

class Exit extends Error { constructor(code) { super(`module exited with status ${code}`); this.code = code; } }

function wasiImports(getMemory, stdio) {
  const view = () => new DataView(getMemory().buffer);
  const zero2 = (a, b) => { view().setUint32(a, 0, true); view().setUint32(b, 0, true); return ESUCCESS; };
  return {
    args_sizes_get: zero2, environ_sizes_get: zero2,
    args_get: () => ESUCCESS, environ_get: () => ESUCCESS,
    clock_res_get: (id, out) => { view().setBigUint64(out, 1000n, true); return ESUCCESS; },
    clock_time_get: (id, precision, out) => {
      const ns = id === 0 ? BigInt(Date.now()) * 1000000n : BigInt(Math.round(performance.now() * 1e6));
      view().setBigUint64(out, ns, true); return ESUCCESS;
    },
    random_get: (ptr, len) => { crypto.getRandomValues(new Uint8Array(getMemory().buffer, ptr, len)); return ESUCCESS; },
    fd_write: (fd, iovs, n, written) => {
      if (fd !== 1 && fd !== 2) return EBADF;
      let total = 0;
      for (let i = 0; i < n; i++) {
        const p = view().getUint32(iovs + 8 * i, true), l = view().getUint32(iovs + 8 * i + 4, true);
        const s = stdio[fd];
        if (s.length < MAX_STDIO) s.push(...new Uint8Array(getMemory().buffer, p, Math.min(l, MAX_STDIO - s.length)));
        total += l;
      }
      view().setUint32(written, total, true); return ESUCCESS;
    },
    fd_read: (fd, iovs, n, read) => { view().setUint32(read, 0, true); return fd === 0 ? ESUCCESS : EBADF; },
    fd_fdstat_get: (fd) => (fd <= 2 ? ENOSYS : EBADF),
    fd_prestat_get: () => EBADF, fd_prestat_dir_name: () => EBADF, fd_close: () => EBADF,
    fd_fdstat_set_flags: () => ENOSYS, sched_yield: () => ESUCCESS, poll_oneoff: () => ENOSYS,
    proc_exit: (code) => { throw new Exit(code); },
  };
}

// loadModule instantiates an aegis module from its bytes and returns
// { manifest, run(inputObject) -> outputObject, stderr() }.
export async function loadModule(bytes) {
  const mod = await WebAssembly.compile(bytes);
  let memory;
  const stdio = { 1: [], 2: [] };
  const wasi = wasiImports(() => memory, stdio);
  const imports = { wasi_snapshot_preview1: {} };
  for (const imp of WebAssembly.Module.imports(mod)) {
    if (imp.module !== "wasi_snapshot_preview1" || !(imp.name in wasi)) throw new Error(`module imports ${imp.module}.${imp.name}, which modules may not use`);
    imports.wasi_snapshot_preview1[imp.name] = wasi[imp.name];
  }
  const { exports: x } = await WebAssembly.instantiate(mod, imports);
  memory = x.memory;
  if (x._initialize) x._initialize(); // Go reactors set up their runtime here
  if (x.aegis_abi_version() !== 1) throw new Error(`ABI version ${x.aegis_abi_version()}, this shim speaks 1`);
  const read = (packed) => {
    const p = Number(BigInt.asUintN(64, packed) >> 32n), n = Number(BigInt.asUintN(32, packed));
    if (p + n > memory.buffer.byteLength) throw new Error("module output is outside its memory");
    const out = JSON.parse(new TextDecoder().decode(new Uint8Array(memory.buffer, p, n)));
    x.aegis_free(p);
    return out;
  };
  const manifest = read(x.aegis_manifest());
  return {
    manifest,
    run(input) {
      const bytes = new TextEncoder().encode(JSON.stringify(input));
      const p = x.aegis_alloc(bytes.length);
      new Uint8Array(memory.buffer, p, bytes.length).set(bytes);
      const out = read(x.aegis_run(p, bytes.length));
      x.aegis_free(p);
      if (out.error) throw new Error(`module ${manifest.name}: ${out.error}`);
      return out;
    },
    stderr: () => new TextDecoder().decode(new Uint8Array(stdio[2])),
  };
}
