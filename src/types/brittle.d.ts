declare module 'brittle' {
  export interface Assertion {
    pass(message?: string): void
    fail(message?: string): void
    ok(value: unknown, message?: string): void
    absent(value: unknown, message?: string): void
    is(actual: unknown, expected: unknown, message?: string): void
    not(actual: unknown, expected: unknown, message?: string): void
    alike(actual: unknown, expected: unknown, message?: string): void
    unlike(actual: unknown, expected: unknown, message?: string): void
    exception(
      fn: (() => unknown) | Promise<unknown>,
      expected?: RegExp | Error | ErrorConstructor | unknown,
      message?: string
    ): Promise<void>
    execution(fn: (() => unknown) | Promise<unknown>, message?: string): Promise<void>
    comment(...args: unknown[]): void
  }
  export interface Test extends Assertion {
    plan(n: number): void
    teardown(fn: () => unknown, opts?: { order?: number }): void
    timeout(ms: number): void
    test(name: string, fn: (t: Test) => unknown): Promise<void>
    test(name: string, opts: TestOptions, fn: (t: Test) => unknown): Promise<void>
    end(): void
    readonly name: string
  }
  export interface TestOptions {
    timeout?: number
    skip?: boolean
    todo?: boolean
    solo?: boolean
  }
  interface TestFn {
    (name: string, fn: (t: Test) => unknown): Promise<void>
    (name: string, opts: TestOptions, fn: (t: Test) => unknown): Promise<void>
    skip(name: string, fn: (t: Test) => unknown): Promise<void>
    solo(name: string, fn: (t: Test) => unknown): Promise<void>
    configure(opts: { timeout?: number; bail?: boolean; serial?: boolean }): void
  }
  const test: TestFn
  export default test
  export const skip: TestFn['skip']
}
