// Reads from this node's REST API (same origin).

export class ApiError extends Error {
  constructor(status, problem) {
    super(`HTTP ${status}`);
    this.status = status;
    this.reason = problem && problem.reason ? problem.reason : "";
  }
}

export async function get(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  if (!response.ok) {
    let problem = null;
    try {
      problem = await response.json();
    } catch (_) {
      problem = null;
    }
    throw new ApiError(response.status, problem);
  }
  return response.json();
}

// Like get, but a 404 gives null instead of an error.
export async function find(path) {
  try {
    return await get(path);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

export async function text(path) {
  const response = await fetch(path);
  if (!response.ok) throw new ApiError(response.status, null);
  return response.text();
}

const cache = new Map();

// Values that do not change while the page is open (status's chain id and suite; the
// validator set that signed a given height).
export async function once(path) {
  if (!cache.has(path)) cache.set(path, get(path).catch((e) => { cache.delete(path); throw e; }));
  return cache.get(path);
}
