// One DNS A query over UDP, for end-to-end tests run inside a container namespace (no dig here).
// Usage: node dns-query.mjs <server> <port> <name>  ->  prints "<RCODE> <ip> <ip> …" (NOERROR, NXDOMAIN, …)
import dgram from 'node:dgram';

const [server, port, name] = process.argv.slice(2);
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

const labels = name.replace(/\.$/, '').split('.');
const query = Buffer.alloc(12 + labels.reduce((n, l) => n + l.length + 1, 0) + 1 + 4);
const id = Math.floor(Math.random() * 65536);
query.writeUInt16BE(id, 0);
query.writeUInt16BE(0x0100, 2); // RD
query.writeUInt16BE(1, 4);
let o = 12;
for (const l of labels) {
  query[o++] = l.length;
  o += query.write(l, o, 'ascii');
}
query[o++] = 0;
query.writeUInt16BE(1, o); // A
query.writeUInt16BE(1, o + 2); // IN

const socket = dgram.createSocket('udp4');
const timer = setTimeout(() => {
  console.log('TIMEOUT');
  process.exit(2);
}, 3000);
socket.on('message', (msg) => {
  if (msg.readUInt16BE(0) !== id) return;
  clearTimeout(timer);
  const rcode = msg.readUInt16BE(2) & 0xf;
  const qd = msg.readUInt16BE(4);
  const an = msg.readUInt16BE(6);
  let p = 12;
  const skipName = () => {
    for (;;) {
      const len = msg[p];
      if ((len & 0xc0) === 0xc0) {
        p += 2;
        return;
      }
      p += 1;
      if (len === 0) return;
      p += len;
    }
  };
  for (let i = 0; i < qd; i++) {
    skipName();
    p += 4;
  }
  const ips = [];
  for (let i = 0; i < an; i++) {
    skipName();
    const type = msg.readUInt16BE(p);
    const rdlen = msg.readUInt16BE(p + 8);
    p += 10;
    if (type === 1 && rdlen === 4) ips.push([...msg.subarray(p, p + 4)].join('.'));
    p += rdlen;
  }
  console.log([RCODES[rcode] ?? String(rcode), ...ips.sort()].join(' '));
  socket.close();
});
socket.send(query, Number(port), server);
