import { describe, expect, it } from 'vitest';
import { parseAddressSpecs } from '../../src/docker/docker-attach.js';
import { rewriteCreateRequest } from '../../src/docker/proxy/create-rewrite.js';
import { isWrapped, waitScript, WAIT_MARKER } from '../../src/docker/proxy/wait-for-interface.js';

const dns = { resolver: '10.47.255.254', domain: 'weave.local' };
const image = { entrypoint: ['/docker-entrypoint.sh'], cmd: ['nginx', '-g', 'daemon off;'] };

describe('proxy create rewrite', () => {
  it('wraps the image command, sets weaveDNS and a hostname from the name', () => {
    const { body, attach } = rewriteCreateRequest(
      { Image: 'nginx', HostConfig: { NetworkMode: 'default' } },
      'web',
      image,
      { dns },
    );
    expect(attach).toEqual([]);
    expect(isWrapped(body.Entrypoint as string[])).toBe(true);
    expect(body.Entrypoint).toEqual(['/bin/sh', '-c', waitScript(true), WAIT_MARKER]);
    expect(body.Cmd).toEqual(['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;']);
    expect(body.HostConfig).toEqual({
      NetworkMode: 'default',
      Dns: ['10.47.255.254'],
      DnsSearch: ['weave.local'],
    });
    expect(body.Hostname).toBe('web');
    expect(body.Domainname).toBe('weave.local');
  });

  it('keeps what the client set and follows Docker entrypoint/cmd rules', () => {
    const req = {
      Image: 'nginx',
      Hostname: 'mine',
      Entrypoint: ['/bin/app'],
      Cmd: ['--flag'],
      Env: ['A=1', 'WEAVE_CIDR=net:10.2.1.0/24 ip:10.2.2.5/24'],
      HostConfig: { Dns: ['1.1.1.1'], DnsSearch: ['corp'] },
    };
    const { body, attach } = rewriteCreateRequest(req, 'x', undefined, { dns });
    expect(attach).toEqual([
      { kind: 'net', subnet: '10.2.1.0/24' },
      { kind: 'ip', cidr: '10.2.2.5/24' },
    ]);
    expect(body.Cmd).toEqual(['/bin/app', '--flag']);
    expect(body.Hostname).toBe('mine');
    expect(body.Domainname).toBeUndefined();
    expect(body.HostConfig).toEqual({ Dns: ['1.1.1.1'], DnsSearch: ['corp'] });
    // a given Cmd replaces the image's; Entrypoint [""] resets the image's entrypoint
    expect(rewriteCreateRequest({ Cmd: 'ls' }, undefined, image, {}).body.Cmd).toEqual([
      '/docker-entrypoint.sh',
      'ls',
    ]);
    expect(rewriteCreateRequest({ Entrypoint: [''], Cmd: ['ls'] }, undefined, image, {}).body.Cmd).toEqual([
      'ls',
    ]);
    // the request is not modified in place
    expect(req.HostConfig).toEqual({ Dns: ['1.1.1.1'], DnsSearch: ['corp'] });
  });

  it('leaves opted-out, host- and container-network containers alone', () => {
    const none = { Image: 'i', Env: ['WEAVE_CIDR=none'] };
    expect(rewriteCreateRequest(none, 'n', image, { dns })).toEqual({ body: none, attach: undefined });
    const host = { Image: 'i', HostConfig: { NetworkMode: 'host' } };
    expect(rewriteCreateRequest(host, 'n', image, { dns }).attach).toBeUndefined();
    const shared = { Image: 'i', HostConfig: { NetworkMode: 'container:abc' } };
    expect(rewriteCreateRequest(shared, 'n', image, { dns }).attach).toBeUndefined();
    expect(rewriteCreateRequest({ Image: 'i' }, 'n', image, { defaultAttach: false }).attach).toBeUndefined();
    expect(
      rewriteCreateRequest({ Image: 'i', Env: ['WEAVE_CIDR=net:default'] }, 'n', image, {
        defaultAttach: false,
      }).attach,
    ).toEqual([{ kind: 'net' }]);
  });

  it('rejects malformed WEAVE_CIDR words', () => {
    for (const bad of ['net:10.2.1.0', 'ip:banana', 'net:', 'foo']) {
      expect(() => rewriteCreateRequest({ Env: [`WEAVE_CIDR=${bad}`] }, 'n', image, {})).toThrow(
        /invalid address specification/,
      );
    }
    expect(parseAddressSpecs('none')).toBeUndefined();
    expect(parseAddressSpecs('10.2.1.9/24 net:default')).toEqual([
      { kind: 'ip', cidr: '10.2.1.9/24' },
      { kind: 'net' },
    ]);
  });

  it('waits for the multicast route, or any ethwe route without one', () => {
    expect(waitScript(true)).toContain('000000E0');
    expect(waitScript(false)).not.toContain('000000E0');
    expect(waitScript(false)).toContain('exec "$@"');
  });
});
