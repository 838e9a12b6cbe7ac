/**
 * MurmurHash3 (x86, 32-bit) over a string's UTF-16 code units, read two at a time as one 32-bit
 * block (the bytes of the string's UTF-16LE encoding). Hashing code units directly avoids encoding
 * the string to bytes, so hashing a key allocates nothing.
 */

const C1 = 0xcc9e2d51
const C2 = 0x1b873593

/** The murmur3 finaliser: an avalanche step that spreads every input bit over the whole word. */
export const fmix32 = (h: number): number => {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** 32-bit murmur3 of `key` with `seed`, as an unsigned integer. */
export const murmur3 = (key: string, seed = 0): number => {
  const length = key.length
  const pairs = length & ~1
  let h = seed | 0
  let i = 0
  for (; i < pairs; i += 2) {
    let k = (key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16)) | 0
    k = Math.imul(k, C1)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, C2)
    h ^= k
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  if (i < length) {
    let k = key.charCodeAt(i)
    k = Math.imul(k, C1)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, C2)
    h ^= k
  }
  return fmix32(h ^ (length * 2))
}
