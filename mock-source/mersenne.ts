import type { Randomizer } from '@faker-js/faker';

/**
 * The Mersenne Twister that Faker uses by default (`generateMersenne53Randomizer`), written out so its
 * state can be saved and restored: Faker keeps that state private, and a mock source that restarts
 * must continue the same random sequence (a world it can continue deterministically), not start it
 * again. Same seed, same numbers as Faker's own generator, draw for draw (see mersenne.test.ts), so
 * the data of a seed is what it was before the mock source persisted its world.
 */
export interface RngState {
  /** the 624 words of the generator */
  words: Int32Array;
  /** the next word to temper */
  index: number;
}

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER = 0x80000000;
const LOWER = 0x7fffffff;

export interface SavableRandomizer extends Randomizer {
  save(): RngState;
  restore(state: RngState): void;
}

export function createMersenneRandomizer(seed: number): SavableRandomizer {
  let words = twist(initialWords(seed));
  let index = 0;

  function nextU32(): number {
    let y = words[index]!;
    y ^= words[index]! >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    if (++index >= N) {
      words = twist(words);
      index = 0;
    }
    return y >>> 0;
  }

  return {
    // 53-bit resolution, like Faker's default randomizer
    next() {
      const a = nextU32() >>> 5;
      const b = nextU32() >>> 6;
      return (a * 67108864 + b) * (1.0 / 9007199254740992);
    },
    seed(value) {
      if (typeof value !== 'number') throw new Error('the mock source seeds its generator with a number');
      words = twist(initialWords(value));
      index = 0;
    },
    save: () => ({ words: Int32Array.from(words), index }),
    restore(state) {
      if (state.words.length !== N || state.index < 0 || state.index >= N) {
        throw new Error(`not a saved generator state (${state.words.length} words, index ${state.index})`);
      }
      words = Array.from(state.words);
      index = state.index;
    },
  };
}

/** init_genrand: words[0] is the seed as given (Faker does not truncate it first) */
function initialWords(seed: number): number[] {
  const w = new Array<number>(N);
  w[0] = seed;
  for (let i = 1; i < N; i++) {
    const prev = w[i - 1]! ^ (w[i - 1]! >>> 30);
    w[i] = Math.trunc(Math.imul(1812433253, prev) + i);
  }
  return w;
}

function twist(w: number[]): number[] {
  let k = 0;
  for (; k < N - M; k++) {
    const y = (w[k]! & UPPER) + (w[k + 1]! & LOWER);
    w[k] = w[k + M]! ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
  }
  for (; k < N - 1; k++) {
    const y = (w[k]! & UPPER) + (w[k + 1]! & LOWER);
    w[k] = w[k + M - N]! ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
  }
  const y = (w[N - 1]! & UPPER) + (w[0]! & LOWER);
  w[N - 1] = w[M - 1]! ^ (y >>> 1) ^ (-(y & 1) & MATRIX_A);
  return w;
}
