import { ConclaveError } from '../src/kernel/errors.js'
import { NodeErrors } from '../src/node/errors.js'
import { readRuntime, readToken } from '../src/node/runtime-file.js'

/** Calls the running node's local API for this home; maps its error bodies back to coded errors. */
export async function apiRequest<T = unknown>(
  home: string,
  method: string,
  path: string,
  body?: unknown
): Promise<T> {
  const runtime = readRuntime(home)
  const token = readToken(home)
  if (!runtime || !token) {
    throw NodeErrors.NODE_NOT_RUNNING(
      `no running node for ${home}; start it with "conclave --home ${home} run"`
    )
  }
  let res: Response
  try {
    res = await fetch(`http://127.0.0.1:${runtime.port}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' })
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
  } catch (err) {
    throw NodeErrors.NODE_NOT_RUNNING(`the node for ${home} does not answer on port ${runtime.port}`, {
      cause: err
    })
  }
  const text = await res.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw NodeErrors.NODE_API_ERROR(`unexpected answer from the node (HTTP ${res.status})`)
  }
  if (!res.ok) {
    const e = json as { code?: string; message?: string; data?: Record<string, unknown> }
    if (typeof e.code === 'string') {
      throw new ConclaveError(e.code, e.message ?? 'error', {
        status: res.status,
        ...(e.data ? { data: e.data } : {})
      })
    }
    throw NodeErrors.NODE_API_ERROR(`HTTP ${res.status} from the node`)
  }
  return json as T
}
