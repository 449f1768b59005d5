declare module 'qrcode-terminal' {
  const qrcode: {
    generate(input: string, opts: { small?: boolean }, cb: (output: string) => void): void
  }
  export = qrcode
}
