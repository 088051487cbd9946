/** The usage text (upstream's layout, limited to the verbs this CLI has). */
export const USAGE = `Usage:

weave --help | help
      version

weave launch        <same arguments as 'weave launch-router'>
                      [--plugin=false] [--proxy=false] [-H <endpoint>]
      launch-router [--password <pass>] [--trusted-subnets <cidr>,...]
                      [--host <ip_address>]
                      [--name <mac>] [--nickname <nickname>]
                      [--no-restart] [--no-discovery] [--no-dns]
                      [--ipalloc-init <mode>]
                      [--ipalloc-range <cidr> [--ipalloc-default-subnet <cidr>]]
                      [--log-level=debug|info|warning|error]
                      <peer> ...

weave prime

weave connect       [--replace] [<peer> ...]
      forget        <peer> ...

weave attach        [--no-multicast-route] [<addr> ...] [-h <fqdn>] <container_id>
      detach        [<addr> ...] <container_id>

weave expose        [<addr> ...] [-h <fqdn>] [--without-masquerade]
      hide          [<addr> ...]

weave dns-add       [<ip_address> ...] <container_id> [-h <fqdn>] |
                    <ip_address> ... -h <fqdn>
      dns-remove    [<ip_address> ...] <container_id> [-h <fqdn>] |
                    <ip_address> ... -h <fqdn>
      dns-lookup    <unqualified_name>

weave status        [targets | connections | peers | dns | ipam]
      report        [-f <format>]
      ps            [<container_id> ...]

weave stop

weave reset         [--force]
      rmpeer        <peer_id> ...


where <peer>         = <ip_address_or_fqdn>[:<port>]
      <cidr>         = <ip_address>/<routing_prefix_length>
      <addr>         = [ip:]<cidr> | net:<cidr> | net:default
      <peer_id>      = <nickname> | <weave internal peer ID>
      <mode>         = consensus[=<count>] | seed=<mac>,... | observer
      <container_id> = <network namespace name> | <pid> | <network namespace path>
`;
