import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  formatValue,
  parseTemplate,
  renderTemplate,
  sprintf,
  TemplateExecError,
  TemplateParseError,
} from '../src/index.js';

// Upstream's own /report of host A (golden data from a stock 2.8.1 router).
const report = JSON.parse(
  readFileSync(new URL('../../../fixtures/weaver-2.8.1/hostA_report.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

describe('Go template subset over a real /report', () => {
  it('fields, nested fields and the seeds formats', () => {
    expect(renderTemplate('{{.Router.Name}}', report)).toBe('0a:00:00:00:00:01');
    expect(renderTemplate('{{.DNS.Address}}', report)).toBe((report.DNS as { Address: string }).Address);
    expect(renderTemplate('{{.IPAM.Range}} {{.IPAM.DefaultSubnet}}', report)).toBe(
      '172.16.16.0/24 172.16.16.0/24',
    );
    expect(renderTemplate('{{.Router.NickName}}:{{.Router.Port}} {{.Router.Encryption}}', report)).toBe(
      'hostA:6783 false',
    );
  });

  it('range with and without variables, else on empty', () => {
    expect(renderTemplate('{{range .Router.Peers}}{{.NickName}} {{end}}', report)).toBe('hostA hostB hostC ');
    expect(renderTemplate('{{range $i, $p := .Router.Peers}}{{$i}}={{$p.NickName}};{{end}}', report)).toBe(
      '0=hostA;1=hostB;2=hostC;',
    );
    expect(renderTemplate('{{range .Router.Targets}}x{{else}}none{{end}}', report)).toBe('none');
    expect(
      renderTemplate(
        '{{range .Router.Connections}}{{.Address}} {{range $k, $v := .Attrs}}{{$k}}={{$v}},{{end}}\n{{end}}',
        report,
      ),
    ).toBe('10.250.0.2:51341 mtu=1438,name=sleeve,\n10.250.1.3:42851 mtu=1438,name=sleeve,\n');
  });

  it('json, printf, len, pipes, comparisons', () => {
    expect(renderTemplate('{{json .Router.TrustedSubnets}}', report)).toBe('[]');
    expect(renderTemplate('{{json .Router.Targets}}', report)).toBe('null');
    expect(renderTemplate('{{json .VersionCheck}}', report)).toBe(JSON.stringify(report.VersionCheck));
    expect(renderTemplate('{{printf "%-8s|%5d|%q" .Router.NickName .Router.Port "x"}}', report)).toBe(
      'hostA   | 6783|"x"',
    );
    expect(renderTemplate('{{printf "%s" .IPAM.Range}}', report)).toBe('172.16.16.0/24');
    expect(renderTemplate('{{len .Router.Peers}}', report)).toBe('3');
    expect(renderTemplate('{{.Router.NickName | printf "<%s>"}}', report)).toBe('<hostA>');
    expect(renderTemplate('{{if eq .Router.Port 6783}}std{{else}}other{{end}}', report)).toBe('std');
    expect(
      renderTemplate('{{if ne .Router.NickName "hostA"}}a{{else if .IPAM}}b{{else}}c{{end}}', report),
    ).toBe('b');
    expect(renderTemplate('{{with .DNS}}{{.Domain}}{{end}}', report)).toBe('weave.local.');
    expect(renderTemplate('{{with .Proxy}}p{{else}}no proxy{{end}}', report)).toBe('no proxy');
    expect(renderTemplate('{{index .Router.Peers 1 | printf "%v" | len | printf "%d"}}', report)).toMatch(
      /^\d+$/,
    );
    expect(renderTemplate('{{(index .Router.Peers 2).NickName}}', report).length).toBeGreaterThan(0);
  });

  it('variables, trim markers and comments', () => {
    expect(renderTemplate('{{$n := .Router.Name}}{{range .Router.Peers}}{{$n}}{{end}}', report)).toBe(
      '0a:00:00:00:00:01'.repeat(3),
    );
    expect(renderTemplate('a  {{- /* gone */ -}}  b', report)).toBe('ab');
    expect(renderTemplate('x {{- .Router.Port}} y', report)).toBe('x6783 y');
    expect(renderTemplate('{{$}}', 'dot')).toBe('dot');
  });

  it('prints values as Go %v', () => {
    expect(formatValue([1, 'a', true])).toBe('[1 a true]');
    expect(formatValue({ b: 2, a: 1 })).toBe('map[a:1 b:2]');
    expect(formatValue({ Name: 'x', Size: 3 })).toBe('{x 3}');
    expect(formatValue(null)).toBe('<nil>');
    expect(renderTemplate('{{.Missing}}', { Other: 1 })).toBe('<no value>');
    expect(sprintf('%5.1f%%', [12.345])).toBe(' 12.3%');
    expect(sprintf('%04.1f', [5])).toBe('05.0');
    expect(sprintf('%s %s', ['only'])).toBe('only %!s(MISSING)');
    expect(sprintf('%12.12v|', ['0123456789abcdef'])).toBe('0123456789ab|');
  });
});

describe('Go template errors', () => {
  it('parse errors name the template', () => {
    expect(() => parseTemplate('{{.Router.Name')).toThrow(TemplateParseError);
    expect(() => parseTemplate('{{.Router.Name')).toThrow('template: format:1: unclosed action');
    expect(() => parseTemplate('{{nosuch .X}}')).toThrow('template: format:1: function "nosuch" not defined');
    expect(() => parseTemplate('{{end}}')).toThrow('unexpected {{end}}');
    expect(() => parseTemplate('{{if .X}}open')).toThrow('unexpected EOF');
    expect(() => parseTemplate('{{}}')).toThrow('missing value for command');
    expect(() => parseTemplate('{{"unterminated}}')).toThrow(TemplateParseError);
    expect(() => parseTemplate('{{define "x"}}{{end}}')).toThrow('not supported');
  });

  it('execution errors', () => {
    expect(() => renderTemplate('{{.Proxy.Addresses}}', report)).toThrow(TemplateExecError);
    expect(() => renderTemplate('{{.Router.Peers.Name}}', report)).toThrow(/can't evaluate field Name/);
    expect(() => renderTemplate('{{$nope}}', report)).toThrow('undefined variable: $nope');
    expect(() => renderTemplate('{{range .Router.Port}}{{end}}x', { Router: { Port: 'p' } })).toThrow(
      /can't iterate/,
    );
  });
});
