/**
 * Schulze's strongest paths over a flat k×k pairwise matrix
 * (d[x*k+y] = ballots preferring x to y), winning-votes variant:
 * a link x→y has strength d[x][y] when d[x][y] > d[y][x], else 0, and a
 * path is as strong as its weakest link. O(k³) (Floyd–Warshall on the
 * widest-path semiring); independent of the number of ballots, which only
 * ever touched the matrix.
 */
export function strongestPaths(d: readonly number[], k: number): number[] {
  const p = new Array<number>(k * k).fill(0)
  for (let x = 0; x < k; x++) {
    for (let y = 0; y < k; y++) {
      if (x !== y && d[x * k + y]! > d[y * k + x]!) p[x * k + y] = d[x * k + y]!
    }
  }
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      if (j === i) continue
      const pji = p[j * k + i]!
      if (pji === 0) continue
      for (let l = 0; l < k; l++) {
        if (l === i || l === j) continue
        const via = Math.min(pji, p[i * k + l]!)
        if (via > p[j * k + l]!) p[j * k + l] = via
      }
    }
  }
  return p
}

/** The potential winners: every x with p[x][y] ≥ p[y][x] for all y. Never empty when k > 0. */
export function schulzeWinners(p: readonly number[], k: number): number[] {
  const out: number[] = []
  for (let x = 0; x < k; x++) {
    let ok = true
    for (let y = 0; y < k && ok; y++) if (y !== x && p[x * k + y]! < p[y * k + x]!) ok = false
    if (ok) out.push(x)
  }
  return out
}

/**
 * An option that stays the Condorcet winner whatever `remaining` further
 * ballots say: each such ballot moves d[x][y] − d[y][x] by at most its
 * weight, so a margin above `remaining` over every rival is final. -1 if none.
 */
export function decisiveCondorcet(d: readonly number[], k: number, remaining: number): number {
  for (let x = 0; x < k; x++) {
    let ok = true
    for (let y = 0; y < k && ok; y++) if (y !== x && d[x * k + y]! - d[y * k + x]! <= remaining) ok = false
    if (ok) return x
  }
  return -1
}
