// Proof of ownership for changing a share: the delete token returned at upload, sent as
// `Authorization: Bearer <token>`, checked against its stored SHA-256 in constant time.
import { ApiError } from './errors.js'
import { tokenMatches } from './ids.js'
import type { Share } from './store.js'

/**
 * Throws 401 without a token and 403 with a wrong one.
 * @example
 *   await requireOwner(c.req.raw, share) // Authorization: Bearer <deleteToken>
 */
export async function requireOwner(req: Request, share: Share): Promise<void> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.get('authorization') ?? '')
  if (!match) {
    throw new ApiError(
      401,
      'token-required',
      'send the delete token as "Authorization: Bearer <token>"',
    )
  }
  if (!(await tokenMatches(match[1], share.meta.tokenHash))) {
    throw new ApiError(403, 'wrong-token', 'the delete token does not match this report')
  }
}
