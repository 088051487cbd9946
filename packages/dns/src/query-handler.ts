import type { Random } from '@weave-ts/core';
import type { Answer, DecodedPacket, Packet, Question } from 'dns-packet';
import dnsPacket from 'dns-packet';
import { type FastPathContext, fastAnswer, shuffle } from './fast-path.js';
import type { Forwarder } from './forwarder.js';
import { formatIPv4 } from './ipv4.js';
import {
  encodeFitted,
  FLAG_AA,
  FLAG_QR,
  HEADER_SIZE,
  headerOnlyReply,
  OPCODE_MASK,
  RCODE_FORMERR,
  RCODE_NOTIMP,
  RCODE_NXDOMAIN,
  RCODE_REFUSED,
  RCODE_SERVFAIL,
  rawFlags,
  replyFlags,
  replyLimit,
} from './message.js';
import { fqdn, inDomain, isSingleLabel, parseReverseName, REVERSE_ZONE } from './names.js';
import type { UpstreamSource } from './upstream.js';

/** The records the handler answers from. */
export interface NameLookup {
  /** Our domain, lower-case FQDN. */
  readonly domain: string;
  /** Live addresses of a FQDN (case-insensitive). */
  lookupAddrs(hostname: string): number[];
  /** Hostname of the first live record with this address. */
  reverseAddr(addr: number): string | undefined;
}

/** What a {@link QueryHandler} needs. */
export interface QueryHandlerOptions {
  names: NameLookup;
  ttl: number;
  upstream: UpstreamSource;
  upstreamPort: number;
  upstreamTimeoutMs: number;
  forwarder: Forwarder;
  random: Random;
  /** Whether to try the hand-written single-question A path first. */
  fastPath: boolean;
  /** Forwarded queries allowed in flight at once; beyond that, SERVFAIL at once. */
  maxForwards: number;
}

/** A reply now, a reply later, or no reply (the request is dropped). */
export type HandlerResult = Buffer | Promise<Buffer | undefined> | undefined;

/**
 * weaveDNS's query logic, independent of the transport. Routing by the first question's name:
 *
 * ```
 *   <domain> or single label ─▶ local     A: live addresses (shuffled, AA); other type: NOERROR, empty;
 *                                          unknown: NXDOMAIN; ≠1 question: NXDOMAIN
 *   *.in-addr.arpa.          ─▶ reverse   PTR of a live record; else forwarded; non-PTR/bad: NXDOMAIN
 *   anything else            ─▶ forwarded to each upstream in turn (new id, restored); all fail: SERVFAIL
 * ```
 * Before that: packets shorter than a header or with QR set are dropped, opcodes other than QUERY get
 * NOTIMP, and packets `dns-packet` cannot parse (or without a question) get FORMERR.
 */
export class QueryHandler {
  readonly #o: QueryHandlerOptions;
  readonly #fast: FastPathContext;

  constructor(options: QueryHandlerOptions) {
    this.#o = options;
    const names = options.names;
    this.#fast = {
      domain: names.domain,
      ttl: options.ttl,
      random: options.random,
      lookupAddrs: (h) => names.lookupAddrs(h),
    };
  }

  /**
   * Handles one request that arrived over UDP (`tcp` false) or TCP. With `recursion` false, a query
   * that would be forwarded upstream is answered REFUSED (names in the domain are still answered).
   */
  handle(req: Buffer, tcp: boolean, recursion = true): HandlerResult {
    if (req.length < HEADER_SIZE || (rawFlags(req) & FLAG_QR) !== 0) return undefined;
    try {
      if (this.#o.fastPath) {
        const fast = fastAnswer(req, tcp, this.#fast);
        if (fast) return fast;
      }
      if ((rawFlags(req) & OPCODE_MASK) !== 0) return headerOnlyReply(req, RCODE_NOTIMP);
      let msg: DecodedPacket;
      try {
        msg = dnsPacket.decode(req);
      } catch {
        return headerOnlyReply(req, RCODE_FORMERR);
      }
      const q = msg.questions?.[0];
      if (!q) return headerOnlyReply(req, RCODE_FORMERR);
      const name = fqdn(q.name).toLowerCase();
      const domain = this.#o.names.domain;
      if (inDomain(name, domain)) return this.#local(req, msg, q, name, tcp);
      if (inDomain(name, REVERSE_ZONE)) return this.#reverse(req, msg, q, tcp, recursion);
      return this.#recursive(req, msg, q, name, tcp, recursion);
    } catch {
      // Something we could not encode (e.g. a name dns-packet cannot re-encode): fail, never crash.
      return headerOnlyReply(req, RCODE_SERVFAIL);
    }
  }

  #reply(req: Buffer, msg: DecodedPacket, q: Question, extra: number, rcode: number): Packet {
    return { id: msg.id, type: 'response', flags: replyFlags(rawFlags(req), extra, rcode), questions: [q] };
  }

  #error(req: Buffer, msg: DecodedPacket, q: Question, rcode: number): Buffer {
    return dnsPacket.encode(this.#reply(req, msg, q, 0, rcode));
  }

  #local(req: Buffer, msg: DecodedPacket, q: Question, name: string, tcp: boolean): Buffer {
    if (msg.questions?.length !== 1) return this.#error(req, msg, q, RCODE_NXDOMAIN);
    const hostname = isSingleLabel(name) ? name + this.#o.names.domain : name;
    const addrs = this.#o.names.lookupAddrs(hostname);
    if (addrs.length === 0) return this.#error(req, msg, q, RCODE_NXDOMAIN);
    const reply = this.#reply(req, msg, q, FLAG_AA, 0);
    // RFC 4074: the name exists, so another type gets NOERROR with no answer (never NXDOMAIN).
    if (q.type !== 'A') return dnsPacket.encode(reply);
    const answers: Answer[] = shuffle(addrs, this.#o.random).map((addr) => ({
      type: 'A',
      name: q.name,
      class: 'IN',
      ttl: this.#o.ttl,
      data: formatIPv4(addr),
    }));
    return encodeFitted(reply, answers, replyLimit(msg, tcp));
  }

  #reverse(req: Buffer, msg: DecodedPacket, q: Question, tcp: boolean, recursion: boolean): HandlerResult {
    if (msg.questions?.length !== 1 || q.type !== 'PTR') return this.#error(req, msg, q, RCODE_NXDOMAIN);
    const addr = parseReverseName(q.name);
    if (addr === undefined) return this.#error(req, msg, q, RCODE_NXDOMAIN);
    const hostname = this.#o.names.reverseAddr(addr);
    if (hostname === undefined) return this.#forward(req, msg, q, tcp, recursion);
    const answer: Answer = { type: 'PTR', name: q.name, class: 'IN', ttl: this.#o.ttl, data: hostname };
    return encodeFitted(this.#reply(req, msg, q, FLAG_AA, 0), [answer], replyLimit(msg, tcp));
  }

  #recursive(
    req: Buffer,
    msg: DecodedPacket,
    q: Question,
    name: string,
    tcp: boolean,
    recursion: boolean,
  ): HandlerResult {
    if (msg.questions?.length === 1 && isSingleLabel(name)) return this.#local(req, msg, q, name, tcp);
    return this.#forward(req, msg, q, tcp, recursion);
  }

  #forward(req: Buffer, msg: DecodedPacket, q: Question, tcp: boolean, recursion: boolean): HandlerResult {
    const o = this.#o;
    if (!recursion) return this.#error(req, msg, q, RCODE_REFUSED);
    if (o.forwarder.inflight >= o.maxForwards) return this.#error(req, msg, q, RCODE_SERVFAIL);
    const servers = o.upstream.servers();
    return (async () => {
      for (const server of servers) {
        const query = Buffer.from(req);
        query.writeUInt16BE(o.random.int(0x10000), 0);
        const reply = await o.forwarder.exchange(server, o.upstreamPort, query, tcp, o.upstreamTimeoutMs);
        if (reply) {
          const out = Buffer.from(reply);
          out.writeUInt16BE(msg.id ?? 0, 0);
          return out;
        }
      }
      return this.#error(req, msg, q, RCODE_SERVFAIL);
    })();
  }
}
