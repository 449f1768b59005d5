/** The text a person reads of a message body: its text, its choice or choices, else its JSON ('' for none). */
export function bodyText(body: Record<string, unknown>): string {
  if (typeof body['text'] === 'string') return body['text']
  if (typeof body['choice'] === 'string') return body['choice']
  if (Array.isArray(body['choices'])) return body['choices'].join(', ')
  const json = JSON.stringify(body)
  return json === '{}' ? '' : json
}
