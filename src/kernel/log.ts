/**
 * A tiny leveled logger: one line per event on stderr, `LEVEL code message`
 * plus JSON data. Components take a Logger; nothing logs through globals.
 */
export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug'
const RANK: Record<LogLevel, number> = { silent: 0, error: 1, warn: 2, info: 3, debug: 4 }

export interface Logger {
  error(msg: string, data?: Record<string, unknown>): void
  warn(msg: string, data?: Record<string, unknown>): void
  info(msg: string, data?: Record<string, unknown>): void
  debug(msg: string, data?: Record<string, unknown>): void
}

export function createLogger(
  level: LogLevel,
  sink: (line: string) => void = (l) => process.stderr.write(l)
): Logger {
  const at = RANK[level]
  const emit = (lvl: Exclude<LogLevel, 'silent'>, msg: string, data?: Record<string, unknown>) => {
    if (RANK[lvl] > at) return
    let extra = ''
    if (data) {
      try {
        extra = ` ${JSON.stringify(data, (_k, v) => (v instanceof Error ? { code: (v as { code?: string }).code, message: v.message } : v))}`
      } catch {
        extra = ' [unserializable]'
      }
    }
    sink(`${new Date().toISOString()} ${lvl.toUpperCase()} ${msg}${extra}\n`)
  }
  return {
    error: (m, d) => emit('error', m, d),
    warn: (m, d) => emit('warn', m, d),
    info: (m, d) => emit('info', m, d),
    debug: (m, d) => emit('debug', m, d)
  }
}

export const silentLogger: Logger = createLogger('silent')
