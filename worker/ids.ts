// Share ids and delete tokens: random, base64url, and the token kept only as its SHA-256.

/** 18 random bytes: 144 bits, 24 base64url characters with no padding. */
const ID_BYTES = 18
/** 32 random bytes: 256 bits, 43 base64url characters. */
const TOKEN_BYTES = 32

const ID_PATTERN = /^[A-Za-z0-9_-]{24}$/

/**
 * A new share id.
 * @example
 *   newId() // 'q8Zb2s0xv1mB7cH3lQw9TtE_'
 */
export function newId(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(ID_BYTES)))
}

/** A new delete token, returned once to the uploader and stored only hashed. */
export function newToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(TOKEN_BYTES)))
}

/** Is this string shaped like an id from newId()? */
export function isId(value: string): boolean {
  return ID_PATTERN.test(value)
}

/**
 * SHA-256 of a token, base64url: what the share record keeps.
 * @example
 *   await hashToken(token) // 43 characters
 */
export async function hashToken(token: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))
  return base64url(new Uint8Array(digest))
}

/**
 * Compares a presented token with a stored hash in constant time. The presented token is hashed
 * first, so the comparison is always between two 32-byte digests whatever the caller sent.
 */
export async function tokenMatches(presented: string, storedHash: string): Promise<boolean> {
  const a = new TextEncoder().encode(await hashToken(presented))
  const b = new TextEncoder().encode(storedHash)
  if (a.length !== b.length) return false
  return crypto.subtle.timingSafeEqual(a, b)
}

/** RFC 4648 §5 base64url without padding. */
export function base64url(bytes: Uint8Array): string {
  let binary = ''
  for (const b of bytes) binary += String.fromCharCode(b)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}
