// openZip's inflater for Node: zlib's native inflate (2-3× fflate's, which the browser and the
// Worker keep), held to the room openZip gives each entry by zlib's own output limit.
import { inflateRawSync } from 'node:zlib'
import { constants } from 'node:buffer'
import type { InflateRaw } from '../core/bundle/zip.js'

export const nodeInflateRaw: InflateRaw = (data, maxBytes) => {
  // zlib takes a limit of 1 byte at least; openZip's own checks catch an entry over a 0 limit.
  const maxOutputLength = Math.max(1, Math.min(maxBytes, constants.MAX_LENGTH))
  try {
    return inflateRawSync(data, { maxOutputLength })
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return null
    throw e
  }
}
