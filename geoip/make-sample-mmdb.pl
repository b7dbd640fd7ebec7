#!/usr/bin/perl
# SPDX-License-Identifier: MIT
#
# make-sample-mmdb.pl: builds Meridian's sample GeoIP database (geoip/sample.mmdb) from
# geoip/sample.csv. The output has the GeoIP2-City layout that the server reads by default
# (country.iso_code, continent.code, subdivisions.0.iso_code, location.latitude/longitude),
# is an IPv6 tree with IPv4 under ::/96 and aliased at ::ffff:0:0/96, 2001::/32 and
# 2002::/16, and is byte-for-byte reproducible: build_epoch is fixed, not the clock.
#
#   geoip/make-sample-mmdb.pl [--epoch SECONDS] [--ip-version 6|4] [--no-check]
#                             [INPUT.csv [OUTPUT.mmdb]]
#
# --ip-version 4 writes an IPv4-only tree (no aliases; IPv4 rows only), which the unit tests
# use as a fixture for that layout.
#
# Needs Debian's libmaxmind-db-writer-perl and libnet-works-perl (and, for the check of
# the written file, libmaxmind-db-reader-perl, which the writer pulls in). No network.
# CSV: network,country_iso,continent_code,latitude,longitude,subdivision; '#' lines and
# blank lines are comments; any field but the network may be empty (at least one must be
# set; coordinates come in pairs). The most specific network wins whatever the row order.

use strict;
use warnings;

use File::Basename qw(dirname);
use File::Temp qw(tempfile);
use Getopt::Long qw(GetOptions);
use MaxMind::DB::Writer::Tree;
use Net::Works::Address;
use Net::Works::Network;

# 2025-01-01T00:00:00Z. SOURCE_DATE_EPOCH (reproducible-builds.org) overrides it.
my $DEFAULT_EPOCH = 1735689600;
my %CONTINENTS = map { $_ => 1 } qw(AF AN AS EU NA OC SA);

my $dir = dirname(__FILE__);
my $epoch = $ENV{SOURCE_DATE_EPOCH} // $DEFAULT_EPOCH;
my $check = 1;
my $ip_version = 6;
my $usage = "usage: $0 [--epoch SECONDS] [--ip-version 6|4] [--no-check] [IN.csv [OUT.mmdb]]\n";
GetOptions('epoch=i' => \$epoch, 'ip-version=i' => \$ip_version, 'check!' => \$check)
    or die $usage;
die $usage unless $ip_version == 4 || $ip_version == 6;
my $input = shift // "$dir/sample.csv";
my $output = shift // "$dir/sample.mmdb";
die $usage if @ARGV;

my @rows = read_csv($input);
write_mmdb(\@rows, $output);
check_mmdb(\@rows, $output) if $check;
printf "%s: %d networks, build_epoch %d\n", $output, scalar @rows, $epoch;
exit 0;

# Returns the rows as hashes: line, text (the network as written), net (Net::Works, IPv4 as
# ::a.b.c.d so that every row lives in one address space) and record (the MMDB map).
sub read_csv {
    my ($path) = @_;
    my (@rows, %seen);

    open my $fh, '<', $path or die "$path: $!\n";
    while (my $line = <$fh>) {
        chomp $line;
        $line =~ s/\r$//;
        next if $line =~ /^\s*(#|$)/ || $line =~ /^network,/;
        my $where = "$path:$.";
        my @f = split /,/, $line, -1;
        die "$where: expected 5 or 6 fields, got " . scalar(@f) . "\n"
            unless @f == 5 || @f == 6;
        my ($text, $country, $continent, $lat, $lon, $subdivision) = @f;
        $subdivision //= '';

        my $net = eval { Net::Works::Network->new_from_string(string => $text, version => 6) }
            or die "$where: bad network '$text'\n";
        my ($ip) = split m{/}, $text;
        my $addr = Net::Works::Address->new_from_string(string => $ip, version => 6);
        die "$where: '$text' has host bits set\n"
            unless $addr->as_integer == $net->first_as_integer;
        die "$where: an IPv4-only database cannot hold $text\n"
            if $ip_version == 4 && $text =~ /:/;
        my $key = $net->as_string;
        die "$where: $text listed twice (also line $seen{$key})\n" if $seen{$key};
        $seen{$key} = $.;

        my %record;
        if ($country ne '') {
            die "$where: country '$country' is not two capital letters\n"
                unless $country =~ /^[A-Z]{2}$/;
            $record{country} = { iso_code => $country };
        }
        if ($continent ne '') {
            die "$where: unknown continent '$continent'\n" unless $CONTINENTS{$continent};
            $record{continent} = { code => $continent };
        }
        if ($subdivision ne '') {
            die "$where: subdivision '$subdivision' is not 1-3 capitals or digits\n"
                unless $subdivision =~ /^[A-Z0-9]{1,3}$/;
            $record{subdivisions} = [ { iso_code => $subdivision } ];
        }
        die "$where: latitude and longitude go together\n" if ($lat eq '') != ($lon eq '');
        if ($lat ne '') {
            my $num = qr/^-?\d+(\.\d+)?$/;
            die "$where: bad coordinates '$lat,$lon'\n"
                unless $lat =~ $num && $lon =~ $num && abs($lat) <= 90 && abs($lon) <= 180;
            $record{location} = { latitude => 0 + $lat, longitude => 0 + $lon };
        }
        die "$where: a row needs a field besides the network\n" unless %record;
        push @rows, { line => $., text => $text, net => $net, record => \%record };
    }
    close $fh;
    die "$path: no rows\n" unless @rows;
    return @rows;
}

sub write_mmdb {
    my ($rows, $path) = @_;
    my %types = (
        continent    => 'map',
        country      => 'map',
        location     => 'map',
        subdivisions => [ 'array', 'map' ],
        code         => 'utf8_string',
        iso_code     => 'utf8_string',
        latitude     => 'double',
        longitude    => 'double',
    );
    my $tree = MaxMind::DB::Writer::Tree->new(
        ip_version            => $ip_version,
        record_size           => 24,
        database_type         => 'GeoIP2-City',
        languages             => ['en'],
        description           => { en => 'Meridian sample GeoIP data (synthetic test ranges, MIT)' },
        map_key_type_callback => sub { $types{ $_[0] } // die "no type for key $_[0]\n" },
        alias_ipv6_to_ipv4    => $ip_version == 6 ? 1 : 0,
        # Loopback, RFC 1918 and documentation ranges are all this file holds.
        remove_reserved_networks => 0,
        merge_strategy           => 'none',
        # The writer stamps time() unless told; a fixed epoch keeps the file reproducible.
        _build_epoch => $epoch,
    );

    # Less specific first: a later insert replaces what it covers, so nested rows win
    # whatever their order in the CSV. Ties (disjoint networks) go in address order.
    for my $row (sort { $a->{net}->prefix_length <=> $b->{net}->prefix_length
                            || $a->{net}->first_as_integer <=> $b->{net}->first_as_integer }
                 @$rows) {
        $tree->insert_network($row->{text}, $row->{record});
    }

    # Written beside the target and renamed: a server reloading it never sees half a file.
    my ($fh, $tmp) = tempfile('.sample-mmdb-XXXXXX', DIR => dirname($path), UNLINK => 0);
    binmode $fh;
    $tree->write_tree($fh);
    close $fh or die "$tmp: $!\n";
    chmod 0644, $tmp;
    rename $tmp, $path or die "rename $tmp -> $path: $!\n";
}

# Reads the file back: the first and last address of every row (and, for IPv4 rows, their
# ::ffff: alias) must find the record of the most specific row covering them.
sub check_mmdb {
    my ($rows, $path) = @_;
    require MaxMind::DB::Reader;
    my $reader = MaxMind::DB::Reader->new(file => $path);
    my $failures = 0;

    for my $row (@$rows) {
        for my $int ($row->{net}->first_as_integer, $row->{net}->last_as_integer) {
            my $addr = Net::Works::Address->new_from_integer(integer => $int, version => 6);
            my @probes = ($addr->as_string);
            if ($row->{text} !~ /:/) {
                my $v4 = $addr->as_ipv4_string;
                @probes = $ip_version == 6 ? ($v4, "::ffff:$v4") : ($v4);
            }
            my $want = most_specific($rows, $addr);
            for my $probe (@probes) {
                my $got = $reader->record_for_address($probe);
                next if same($got, $want->{record});
                warn "$path: $probe: expected line $want->{line}\n";
                $failures++;
            }
        }
    }
    die "$path: $failures lookups wrong\n" if $failures;
}

sub most_specific {
    my ($rows, $addr) = @_;
    my $best;
    for my $row (@$rows) {
        next unless $row->{net}->contains($addr);
        $best = $row if !$best || $row->{net}->prefix_length > $best->{net}->prefix_length;
    }
    return $best;
}

# Deep comparison of two decoded records (maps, arrays, strings and numbers).
sub same {
    my ($x, $y) = @_;
    return 0 if !defined $x || !defined $y || ref $x ne ref $y;
    if (ref $x eq 'HASH') {
        return 0 unless join(',', sort keys %$x) eq join(',', sort keys %$y);
        return !grep { !same($x->{$_}, $y->{$_}) } keys %$x;
    }
    if (ref $x eq 'ARRAY') {
        return 0 unless @$x == @$y;
        return !grep { !same($x->[$_], $y->[$_]) } 0 .. $#$x;
    }
    return $x =~ /^-?[\d.]+$/ ? $x == $y : $x eq $y;
}
