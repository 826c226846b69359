/**
 * Paged KV cache accounting: a pool of fixed-size blocks (16 tokens) shared by the sequences of one
 * tensor-parallel group. A sequence holds ceil(tokens / 16) blocks; blocks return to the pool at once
 * when it finishes, is cancelled or is preempted.
 */
import { KV_BLOCK_SIZE } from './profiles.js';

export class KvCache {
  private free: number;

  constructor(readonly totalBlocks: number) {
    if (!Number.isInteger(totalBlocks) || totalBlocks < 1) throw new RangeError(`KV cache needs at least one block, got ${totalBlocks}`);
    this.free = totalBlocks;
  }

  static blocksFor(tokens: number): number {
    return Math.ceil(tokens / KV_BLOCK_SIZE);
  }

  get freeBlocks(): number {
    return this.free;
  }

  get usedBlocks(): number {
    return this.totalBlocks - this.free;
  }

  /** Fraction of blocks in use, 0..1. */
  get usage(): number {
    return (this.totalBlocks - this.free) / this.totalBlocks;
  }

  /** Takes n blocks if that many are free; returns whether it did. */
  tryAllocate(n: number): boolean {
    if (n > this.free) return false;
    this.free -= n;
    return true;
  }

  release(n: number): void {
    this.free += n;
    if (this.free > this.totalBlocks) throw new Error(`KV cache released more blocks than it holds (${this.free} > ${this.totalBlocks})`);
  }
}
