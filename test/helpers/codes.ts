/** The code of what fn throws, null when it returns, 'not-a-code' for anything else thrown. */
export function codeOf(fn: () => unknown): string | null {
  try {
    fn()
    return null
  } catch (err) {
    const code = (err as { code?: unknown }).code
    return typeof code === 'string' ? code : 'not-a-code'
  }
}
