#!/usr/bin/perl
# SPDX-License-Identifier: MIT
#
# geo-data.pl: data and answer checks for the steered-name benchmark (geo.sh).
#
#   geo-data.pl mmdb OUT.mmdb [FILLER] [SEED]
#       A GeoIP2-Country-layout database (database_type GeoIP2-Country; records
#       country.{iso_code,geoname_id,names.en}, continent.{code,geoname_id,names.en}),
#       written with MaxMind::DB::Writer: the known ranges 100.64.0.0/12 US,
#       100.80.0.0/12 DE, 100.96.0.0/11 FR, plus FILLER (20000) random /16-/24 IPv4
#       networks (first octet 1-223, not 10, 100 or 127) with random countries from a
#       list of 24 (US and DE among them), so the tree has a realistic depth. Also
#       writes OUT.csv (network,country,continent,known) listing every network.
#   geo-data.pl ecs DB OUTPREFIX N [SEED] [CSV]
#       N queries' EDNS Client Subnet options, each a different /24 (fixed-seed
#       generator), chosen so that about 30% map to US, 30% to DE and 40% to other
#       countries in DB: with CSV (from the mmdb step), half of the draws from the
#       known ranges and half from random networks of the CSV; without it, random
#       /24s of the public IPv4 space (for a real database). A /24 whose addresses
#       .0, .128 and .255 do not all map to the same country is not used.
#       Writes OUTPREFIX.ecs (blast -e format: 20-byte records: family 1, source
#       prefix 24, 0, address) and OUTPREFIX.expect ("a.b.c.0/24 CC ANSWER" per query;
#       CC "--" when the database has no country), prints the split.
#   geo-data.pl check PORT ECSFILE EXPECTFILE N
#       Sends "www.geo.test A" with the first N ECS options of ECSFILE to
#       127.0.0.1:PORT one at a time, and prints one line:
#       "n=N .1=X .2=Y .3=Z other=W timeout=T wrong=M scope=S1:C1,S2:C2"
#       (answers by address; wrong = answers differing from EXPECTFILE; scope = ECS
#       scope prefix lengths returned, with counts).
#
# Answers: US -> 192.0.2.1, DE -> 192.0.2.2, anything else (or no record) -> 192.0.2.3.
# Needs libmaxmind-db-writer-perl, libnet-works-perl (mmdb), libmaxmind-db-reader-perl
# (ecs). Traffic only to 127.0.0.1.
use strict;
use warnings;

my %ANSWER = (US => '192.0.2.1', DE => '192.0.2.2');
sub answer_for { $ANSWER{ $_[0] } // '192.0.2.3' }

# Park-Miller minimal standard generator (as gen-queries.sh): same sequence everywhere.
my $state = 1;
sub seed { $state = ($_[0] % 2147483646) + 1 }
sub rnd { $state = ($state * 16807) % 2147483647; return int($state / 2147483647 * $_[0]) }

my $cmd = shift // '';
if ($cmd eq 'mmdb') { cmd_mmdb(@ARGV) }
elsif ($cmd eq 'ecs') { cmd_ecs(@ARGV) }
elsif ($cmd eq 'check') { cmd_check(@ARGV) }
else { die "usage: $0 mmdb OUT [FILLER] [SEED] | ecs DB OUTPREFIX N [SEED] [CSV] | check PORT ECS EXPECT N\n" }
exit 0;

sub cmd_mmdb {
    my ($out, $filler, $seed) = @_;
    die "usage: $0 mmdb OUT.mmdb [FILLER] [SEED]\n" unless defined $out;
    $filler //= 20000;
    seed($seed // 5);
    require MaxMind::DB::Writer::Tree;
    require Net::Works::Network;

    my %continent_id = (AF => 6255146, AS => 6255147, EU => 6255148, NA => 6255149,
                        SA => 6255150, OC => 6255151);
    my %continent_name = (AF => 'Africa', AS => 'Asia', EU => 'Europe', NA => 'North America',
                          SA => 'South America', OC => 'Oceania');
    # iso, continent, geoname id, English name
    my @countries = (
        [US => NA => 6252001, 'United States'], [CA => NA => 6251999, 'Canada'],
        [MX => NA => 3996063, 'Mexico'],        [BR => SA => 3469034, 'Brazil'],
        [AR => SA => 3865483, 'Argentina'],     [DE => EU => 2921044, 'Germany'],
        [FR => EU => 3017382, 'France'],        [GB => EU => 2635167, 'United Kingdom'],
        [NL => EU => 2750405, 'Netherlands'],   [IT => EU => 3175395, 'Italy'],
        [ES => EU => 2510769, 'Spain'],         [PL => EU => 798544,  'Poland'],
        [SE => EU => 2661886, 'Sweden'],        [RU => EU => 2017370, 'Russia'],
        [JP => AS => 1861060, 'Japan'],         [CN => AS => 1814991, 'China'],
        [IN => AS => 1269750, 'India'],         [KR => AS => 1835841, 'South Korea'],
        [SG => AS => 1880251, 'Singapore'],     [AU => OC => 2077456, 'Australia'],
        [NZ => OC => 2186224, 'New Zealand'],   [ZA => AF => 953987,  'South Africa'],
        [NG => AF => 2328926, 'Nigeria'],       [EG => AF => 357994,  'Egypt'],
    );
    my %by_iso = map { $_->[0] => $_ } @countries;
    my $record = sub {
        my ($iso, $cont, $gid, $name) = @{ $by_iso{ $_[0] } };
        return {
            country   => { iso_code => $iso, geoname_id => $gid, names => { en => $name } },
            continent => { code => $cont, geoname_id => $continent_id{$cont},
                           names => { en => $continent_name{$cont} } },
        };
    };

    my @rows = (['100.64.0.0/12', 'US', 1], ['100.80.0.0/12', 'DE', 1], ['100.96.0.0/11', 'FR', 1]);
    my %seen = map { $_->[0] => 1 } @rows;
    my @first = grep { $_ != 10 && $_ != 100 && $_ != 127 } 1 .. 223;
    while (@rows < $filler + 3) {
        my $plen = 16 + rnd(9);
        my $base4 = ($first[ rnd(scalar @first) ] << 24) | (rnd(256) << 16) | (rnd(256) << 8);
        $base4 &= (0xffffffff << (32 - $plen)) & 0xffffffff;
        my $net = sprintf('%d.%d.%d.%d/%d', $base4 >> 24, ($base4 >> 16) & 255, ($base4 >> 8) & 255, $base4 & 255, $plen);
        my $cc = $countries[ rnd(scalar @countries) ][0];
        next if $seen{$net}++;
        push @rows, [$net, $cc, 0];
    }

    my %types = (country => 'map', continent => 'map', names => 'map', iso_code => 'utf8_string',
                 code => 'utf8_string', en => 'utf8_string', geoname_id => 'uint32');
    my $tree = MaxMind::DB::Writer::Tree->new(
        ip_version               => 6,
        record_size              => 28,
        database_type            => 'GeoIP2-Country',
        languages                => ['en'],
        description              => { en => 'Meridian benchmark: synthetic country data' },
        map_key_type_callback    => sub { $types{ $_[0] } // die "no type for key $_[0]\n" },
        alias_ipv6_to_ipv4       => 1,
        remove_reserved_networks => 0,    # 100.64.0.0/10 is shared address space
        merge_strategy           => 'none',
        _build_epoch             => 1735689600,
    );
    # Less specific first: a later, more specific insert replaces what it covers.
    my %plen = map { $_->[0] => (split m{/}, $_->[0])[1] } @rows;
    for my $r (sort { $plen{ $a->[0] } <=> $plen{ $b->[0] } } @rows) {
        $tree->insert_network($r->[0], $record->($r->[1]));
    }
    open my $fh, '>:raw', "$out.tmp" or die "$out.tmp: $!\n";
    $tree->write_tree($fh);
    close $fh or die "$out.tmp: $!\n";
    rename "$out.tmp", $out or die "rename $out: $!\n";

    open my $csv, '>', "$out.csv" or die "$out.csv: $!\n";
    print $csv "network,country,continent,known\n";
    printf $csv "%s,%s,%s,%d\n", $_->[0], $_->[1], $by_iso{ $_->[1] }[1], $_->[2] for @rows;
    close $csv or die "$out.csv: $!\n";
    printf "%s: %d networks (%d known + %d random)\n", $out, scalar @rows, 3, @rows - 3;
}

sub cmd_ecs {
    my ($db, $prefix, $n, $seed, $csv) = @_;
    die "usage: $0 ecs DB OUTPREFIX N [SEED] [CSV]\n" unless defined $n && $n =~ /^\d+$/ && $n > 0;
    seed($seed // 11);
    require MaxMind::DB::Reader;
    my $reader = MaxMind::DB::Reader->new(file => $db);
    my $country = sub {
        my $r = $reader->record_for_address($_[0]);
        return '--' unless ref $r eq 'HASH';
        return $r->{country}{iso_code} if ref $r->{country} eq 'HASH' && $r->{country}{iso_code};
        return $r->{country_code} // '--';
    };

    # Candidate /24 generators.
    my (@known, @any);
    if (defined $csv) {
        open my $fh, '<', $csv or die "$csv: $!\n";
        while (<$fh>) {
            chomp;
            next if $. == 1;
            my ($net, undef, undef, $known) = split /,/;
            my ($ip, $plen) = split m{/}, $net;
            my @o = split /\./, $ip;
            my $row = [($o[0] << 24) | ($o[1] << 16) | ($o[2] << 8) | $o[3], $plen];
            push @any, $row;
            push @known, $row if $known;
        }
    }
    my @first = grep { $_ != 10 && $_ != 127 } 1 .. 223;
    my $draw = sub {
        if (@any) {
            my $set = (@known && rnd(2) == 0) ? \@known : \@any;
            my ($base, $plen) = @{ $set->[ rnd(scalar @$set) ] };
            my $count = 1 << (24 - $plen);    # /24s in the network
            return $base + ((rnd($count)) << 8);
        }
        return ($first[ rnd(scalar @first) ] << 24) | (rnd(256) << 16) | (rnd(256) << 8);
    };

    my %quota = (US => int($n * 0.3), DE => int($n * 0.3));
    $quota{other} = $n - $quota{US} - $quota{DE};
    my (%have, %used, @out);
    my $tries = 0;
    while (@out < $n) {
        die "ecs: could not fill the quotas after $tries draws (have: "
            . join(' ', map { "$_=" . ($have{$_} // 0) } sort keys %quota) . ")\n"
            if ++$tries > 200 * $n;
        my $v = $draw->();
        next if $used{$v};
        my $ip = sprintf('%d.%d.%d', $v >> 24, ($v >> 16) & 255, ($v >> 8) & 255);
        my $cc = $country->("$ip.0");
        next if $cc ne $country->("$ip.128") || $cc ne $country->("$ip.255");
        my $bucket = ($cc eq 'US' || $cc eq 'DE') ? $cc : 'other';
        next if ($have{$bucket} // 0) >= $quota{$bucket};
        $have{$bucket}++;
        $used{$v} = 1;
        push @out, [$v, $ip, $cc];
    }
    # Interleave: draws filled the buckets at different speeds; shuffle (fixed seed) so
    # that every stretch of the file has the same mix.
    for (my $i = $#out; $i > 0; $i--) {
        my $j = rnd($i + 1);
        @out[ $i, $j ] = @out[ $j, $i ];
    }
    open my $e, '>:raw', "$prefix.ecs" or die "$prefix.ecs: $!\n";
    open my $x, '>', "$prefix.expect" or die "$prefix.expect: $!\n";
    for my $q (@out) {
        print $e pack('n C C N x12', 1, 24, 0, $q->[0]);
        printf $x "%s.0/24 %s %s\n", $q->[1], $q->[2], answer_for($q->[2]);
    }
    close $e or die "$prefix.ecs: $!\n";
    close $x or die "$prefix.expect: $!\n";
    my %split;
    $split{ answer_for($_->[2]) }++ for @out;
    printf "%s.ecs: %d queries, expected %s (%d draws)\n", $prefix, $n,
        join(' ', map { "$_=$split{$_}" } sort keys %split), $tries;
}

sub cmd_check {
    my ($port, $ecsfile, $expfile, $n) = @_;
    die "usage: $0 check PORT ECSFILE EXPECTFILE N\n" unless defined $n && $port =~ /^\d+$/;
    require IO::Socket::INET;
    open my $e, '<:raw', $ecsfile or die "$ecsfile: $!\n";
    open my $x, '<', $expfile or die "$expfile: $!\n";
    my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port", Proto => 'udp') or die "socket: $!\n";
    my $qname = join('', map { chr(length $_) . $_ } qw(www geo test)) . "\0";
    my (%tally, %scope, $wrong, $i);
    $wrong = 0;
    for ($i = 1; $i <= $n; $i++) {
        last unless read($e, my $rec, 20) == 20;
        my $exp = <$x>;
        my ($family, $src, undef, $addr) = unpack('n C C a16', $rec);
        my $alen = int(($src + 7) / 8);
        my $ecs = pack('n C C', $family, $src, 0) . substr($addr, 0, $alen);
        my $opt = pack('n n', 8, length $ecs) . $ecs;
        my $msg = pack('n6', $i, 0, 1, 0, 0, 1) . $qname . pack('n n', 1, 1)
            . "\0" . pack('n n N n', 41, 1232, 0, length $opt) . $opt;
        $s->send($msg) or die "send: $!\n";
        my $rin = '';
        vec($rin, fileno($s), 1) = 1;
        my ($got, $r) = ('timeout', '');
        # Read until the answer with our ID arrives (or 1 s passes).
        while (select(my $rout = $rin, undef, undef, 1.0)) {
            $s->recv($r, 4096);
            last if length $r >= 12 && unpack('n', $r) == $i;
            $r = '';
        }
        if (length $r >= 12) {
            ($got, my $sc) = parse_answer($r);
            $scope{$sc}++ if defined $sc;
        }
        $tally{$got}++;
        my (undef, undef, $want) = split ' ', ($exp // '');
        $wrong++ if !defined $want || $got ne $want;
    }
    $i--;
    my @keys = ('192.0.2.1', '192.0.2.2', '192.0.2.3');
    my $other = 0;
    for my $k (keys %tally) { $other += $tally{$k} unless grep { $_ eq $k } @keys, 'timeout' }
    printf "n=%d .1=%d .2=%d .3=%d other=%d timeout=%d wrong=%d scope=%s\n", $i,
        (map { $tally{$_} // 0 } @keys), $other, $tally{timeout} // 0, $wrong,
        join(',', map { "$_:$scope{$_}" } sort { $a <=> $b } keys %scope) || '-';
}

# First A record of the answer section, and the ECS scope prefix from the OPT record.
sub parse_answer {
    my ($m) = @_;
    my ($qd, $an, $ns, $ar) = unpack('x4 n4', $m);
    my $off = 12;
    my ($got, $scope) = ('noanswer', undef);
    for (1 .. $qd) { $off = skipname($m, $off) + 4 }
    for my $sec (1 .. $an + $ns + $ar) {
        $off = skipname($m, $off);
        return ($got, $scope) if $off + 10 > length $m;
        my ($type, $class, $ttl, $len) = unpack("x$off n n N n", $m);
        $off += 10;
        if ($sec <= $an && $type == 1 && $len == 4 && $got eq 'noanswer') {
            $got = join '.', unpack("x$off C4", $m);
        }
        if ($type == 41) {
            my $o = $off;
            while ($o + 4 <= $off + $len) {
                my ($code, $olen) = unpack("x$o n n", $m);
                $scope = unpack('x' . ($o + 7) . ' C', $m) if $code == 8 && $olen >= 4;
                $o += 4 + $olen;
            }
        }
        $off += $len;
    }
    return ($got, $scope);
}

sub skipname {
    my ($m, $o) = @_;
    while ($o < length $m) {
        my $l = ord substr($m, $o, 1);
        return $o + 2 if ($l & 0xc0) == 0xc0;
        return $o + 1 if $l == 0;
        $o += $l + 1;
    }
    return $o;
}
