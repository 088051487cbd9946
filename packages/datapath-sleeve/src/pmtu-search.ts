import { MTU_SEARCH_FLOOR, MTU_VERIFY_ATTEMPTS, MTU_VERIFY_TIMEOUT_MS } from './constants.js';

/**
 * The sleeve's PMTU verification (upstream `sendMTUTest` … `searchMTU`). `EMSGSIZE` gives an upper
 * bound; a test frame of that overlay MTU is sent DF and the peer acknowledges over TCP. Unanswered
 * tests are retried with doubling timeouts (10 ms, 20 ms, … 8 attempts); a candidate that never gets
 * through becomes the lowest bad value and the search bisects between the highest good value (552 to
 * begin with) and it, until they meet.
 */

/** What the search needs from its forwarder. */
export interface PmtuProbe {
  /** Sends a DF test frame for overlay MTU `mtu` (may report `EMSGSIZE`, restarting the search). */
  sendTest(mtu: number): void;
  /** Arms the single test timer (replacing an armed one). */
  setTimer(ms: number, fn: () => void): void;
  clearTimer(): void;
  /** The search ended: `mtu` is the verified overlay MTU. */
  verified(mtu: number): void;
}

/** One forwarder's search state. */
export class PmtuSearch {
  private candidate = 0;
  private testsSent = 0;
  private highestGood = 0;
  private lowestBad = 0;

  constructor(private readonly probe: PmtuProbe) {}

  /** Whether an `EMSGSIZE` implying overlay MTU `mtu` should (re)start the search: none under way at or below it. */
  accepts(mtu: number): boolean {
    return this.candidate === 0 || mtu < this.candidate;
  }

  /** Starts searching below the bound `mtu`, testing `mtu` itself first. */
  start(mtu: number): void {
    this.highestGood = MTU_SEARCH_FLOOR;
    this.lowestBad = mtu + 1;
    this.candidate = mtu;
    this.testsSent = 0;
    this.sendTest();
  }

  /** The peer received our test frame for overlay MTU `mtu`; acknowledgements of old candidates are ignored. */
  acknowledged(mtu: number): void {
    if (this.candidate === 0 || mtu !== this.candidate) return;
    this.highestGood = mtu;
    this.search();
  }

  private sendTest(): void {
    // Timer first: the send may report EMSGSIZE and restart the search with its own timer.
    this.probe.setTimer(MTU_VERIFY_TIMEOUT_MS * 2 ** this.testsSent, () => this.timedOut());
    this.testsSent++;
    this.probe.sendTest(this.candidate);
  }

  private timedOut(): void {
    if (this.testsSent < MTU_VERIFY_ATTEMPTS) {
      this.sendTest();
      return;
    }
    this.lowestBad = this.candidate;
    this.search();
  }

  private search(): void {
    if (this.highestGood + 1 >= this.lowestBad) {
      this.probe.clearTimer();
      this.candidate = 0;
      this.probe.verified(this.highestGood);
      return;
    }
    this.candidate = Math.floor((this.highestGood + this.lowestBad) / 2);
    this.testsSent = 0;
    this.sendTest();
  }
}
