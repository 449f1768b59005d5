import qrcode from 'qrcode-terminal'

/** A QR code of `text` for a terminal (half-height blocks, scannable from a phone). */
export function renderQr(text: string): string {
  let out = ''
  qrcode.generate(text, { small: true }, (s) => {
    out = s
  })
  return out
}
