import { defineCodes } from '../kernel/errors.js'

export const HttpErrors = defineCodes({
  HTTP_UNAUTHORIZED: {
    status: 401,
    doc: 'Thrown when a request carries no valid API token (header, or session cookie for reads).'
  },
  HTTP_FORBIDDEN_HOST: {
    status: 403,
    doc: 'Thrown when the Host header is not a loopback name (DNS rebinding defence).'
  },
  HTTP_FORBIDDEN_ORIGIN: {
    status: 403,
    doc: 'Thrown when a state-changing request has an Origin other than this server.'
  },
  HTTP_CSRF: {
    status: 403,
    doc: 'Thrown when a state-changing request is authenticated only by the cookie, without the header token.'
  },
  HTTP_NOT_FOUND: { status: 404, doc: 'Thrown when no route matches the request.' },
  HTTP_BAD_REQUEST: {
    status: 400,
    doc: 'Thrown when a request body, query or parameter fails validation; the zod issues are included.'
  },
  HTTP_PAYLOAD_TOO_LARGE: { status: 413, doc: 'Thrown when a request body exceeds the size limit.' },
  HTTP_BIND_REFUSED: {
    status: 400,
    doc: 'Thrown when the API is asked to bind a non-loopback address without the explicit override.'
  }
})
