# Perl's Redis (Debian's libredis-perl, 2.000) through Sentinel, driven by bench/clients-sentinel.mjs.
#
# usage: perl perl_sentinel.pl HOST:PORT[,...] SERVICE SECONDS INTERVAL_MS SETTINGS
#
# SETTINGS: `timeouts` (cnx_timeout, read_timeout and write_timeout 0.3 s on the master, the same
# for the sentinels, reconnect for 60 s every 50 ms) or `defaults` (Redis.pm's own: no timeout on
# the master; 0.1 s to connect and 1 s to read from a sentinel; reconnect for 60 s every 50 ms, as
# without `reconnect` the first error ends the client). One JSON line per operation, as
# test/discovery/redis_py_sentinel.py does.
use strict;
use warnings;
use JSON::PP;
use Redis;
use Time::HiRes qw(time sleep);

my ($spec, $service, $seconds, $interval_ms, $settings) = @ARGV;
die "usage: perl_sentinel.pl HOST:PORT[,...] SERVICE SECONDS INTERVAL_MS timeouts|defaults\n" unless defined $settings;
my %options = (sentinels => [split /,/, $spec], service => $service, reconnect => 60, every => 50_000);
if ($settings eq 'timeouts') {
    %options = (%options, cnx_timeout => 0.3, read_timeout => 0.3, write_timeout => 0.3,
        sentinels_cnx_timeout => 0.3, sentinels_read_timeout => 0.3, sentinels_write_timeout => 0.3);
} elsif ($settings ne 'defaults') {
    die "unknown SETTINGS $settings: timeouts or defaults\n";
}
$| = 1;
my $json = JSON::PP->new->canonical;
my $client;
my $finish = time + $seconds;
my $n = 0;
while (time < $finish) {
    $n++;
    my $t = time;
    my %line = (t => int($t * 1000));
    eval {
        $client //= Redis->new(%options);
        $client->set('bench', $n);
        my $got = $client->get('bench');
        die "read back another value\n" unless defined $got && $got eq $n;
        %line = (%line, ok => JSON::PP::true, addr => $client->{server});
        1;
    } or do {
        my $e = $@ || 'unknown error';
        $e =~ s/\s+$//;
        %line = (%line, ok => JSON::PP::false, error => $e);
    };
    $line{done} = int(time * 1000);
    print $json->encode(\%line), "\n";
    my $rest = $interval_ms / 1000 - (time - $t);
    sleep($rest) if $rest > 0;
}
