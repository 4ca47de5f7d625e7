package TrpcMail;
# The mails the test stack delivered. With TrpcAuthMailRelay set (scripts/devstack's generated configuration),
# the stack's delivery process sends every mail_outbox row of the test database within milliseconds of its commit
# and then drops the row's sealed_link (the contract: a link with a live token is kept no longer than needed). A
# test that needs a link therefore reads the mail as a user would: the stack's SMTP server (scripts/smtp-sink)
# keeps each message as $TRPCAUTH_TEST_STATE/mail/<sequence>.eml.
#
#   my $link = mail_link('ann@example.com', 'reset-password');   # waits up to 15 s; undef if none came
#   my @m = delivered_mails('ann@example.com');                  # [{ file, head => {lc name => value}, body }]
use strict;
use warnings;

use Exporter 'import';
use Encode ();
use Time::HiRes qw(time sleep);

our @EXPORT_OK = qw(mail_dir delivered_mails mail_link wait_for psql_at own_outbox);

sub mail_dir {
    my $state = $ENV{TRPCAUTH_TEST_STATE} // '.devstack-test';
    return "$state/mail";
}

sub _slurp { my $f = shift; open my $fh, '<:raw', $f or return ''; local $/; return scalar <$fh> }

# The messages to $to (every message without $to), oldest first.
sub delivered_mails {
    my ($to, $dir) = @_;
    my @out;
    for my $f (sort glob(($dir // mail_dir()) . '/*.eml')) {
        my ($head, $body) = split /\r\n\r\n/, _slurp($f), 2;
        (my $unfolded = $head // '') =~ s/\r\n[ \t]+/ /g;
        my %h = map { /^([^:]+):\s*(.*)\z/ ? (lc $1 => $2) : () } split /\r\n/, $unfolded;
        $h{subject} = Encode::decode('MIME-Header', $h{subject}) if defined $h{subject};
        next if defined $to && lc($h{to} // '') ne lc $to;
        push @out, { file => $f, head => \%h, body => $body // '' };
    }
    return @out;
}

# The link (with its token) of the newest mail to $to whose link names $kind ('verify-email', 'reset-password',
# or any when undef) and that is not among the first $o{after} mails to $to; waits up to $o{timeout} seconds.
sub mail_link {
    my ($to, $kind, %o) = @_;
    my $end = time + ($o{timeout} // 15);
    while (1) {
        my @m = delivered_mails($to, $o{dir});
        splice @m, 0, $o{after} if $o{after};
        for my $m (reverse @m) {
            for my $link ($m->{body} =~ m{(https?://\S+[#&?]token=[A-Za-z0-9_-]+)}g) {
                return $link if !defined $kind || index($link, $kind) >= 0;
            }
        }
        return undef if time > $end;
        sleep 0.1;
    }
}

# Polls $cond every 0.1 s for at most $secs seconds; its last value (a mail, a row: what a test waits for).
sub wait_for {
    my ($secs, $cond) = @_;
    my $end = time + $secs;
    my $v;
    while (1) {
        $v = $cond->();
        return $v if $v || time > $end;
        sleep 0.1;
    }
}

# psql on the test database (127.0.0.1:$pg, user trpcauth): the rows as 'a|b' lines, without the trailing newline;
# dies when the statement fails.
sub psql_at {
    my ($pg, $sql) = @_;
    local $ENV{PGOPTIONS} = '-c client_min_messages=warning';
    open my $fh, '-|', 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', $pg,
        '-U', 'trpcauth', '-d', 'trpcauth', '-tA', '-F', '|', '-c', $sql or die "psql: $!";
    local $/;
    my $out = <$fh> // '';
    close $fh;
    die "psql failed: $sql\n" if $?;
    $out =~ s/\s+\z//;
    return $out;
}

# A schema of the test's own holding an empty mail_outbox like public's: a server whose DBDParams put it first in
# search_path has an outbox no other server's delivery process on the test database takes rows from.
sub own_outbox {
    my ($pg, $schema) = @_;
    psql_at($pg, "DROP SCHEMA IF EXISTS $schema CASCADE; CREATE SCHEMA $schema; "
               . "CREATE TABLE $schema.mail_outbox (LIKE public.mail_outbox INCLUDING ALL)");
}

1;
