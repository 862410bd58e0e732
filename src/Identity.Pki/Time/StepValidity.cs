using System.Globalization;
using System.Text.RegularExpressions;
using Identity.Pki.Certificates;

namespace Identity.Pki.Time;

/// <summary>
/// step's <c>--not-before</c> / <c>--not-after</c> rules (<c>flags.ParseTimeOrDuration</c> + <c>create.go</c>):
/// each value is an RFC 3339 time or a Go duration relative to now; notBefore defaults to now and notAfter to
/// notBefore + the profile's default validity.
/// </summary>
public static partial class StepValidity
{
    /// <summary>Parses an RFC 3339 time or a Go duration (relative to <paramref name="now"/>); null when neither.</summary>
    public static DateTimeOffset? ParseTimeOrDuration(string text, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (GoDuration.TryParse(text, out var duration))
        {
            try
            {
                return now + duration;
            }
            catch (ArgumentOutOfRangeException)
            {
                return null;
            }
        }

        var match = Rfc3339().Match(text);
        if (!match.Success)
        {
            return null;
        }

        // Sub-seconds are dropped: certificates carry whole seconds and .NET parses at most 7 fraction digits.
        var normalized = match.Groups["base"].Value + (match.Groups["zone"].Value is "Z" or "z" ? "+00:00" : match.Groups["zone"].Value);
        return DateTimeOffset.TryParseExact(
            normalized.Replace('t', 'T'),
            "yyyy-MM-dd'T'HH:mm:sszzz",
            CultureInfo.InvariantCulture,
            DateTimeStyles.None,
            out var value)
            ? value.ToUniversalTime()
            : null;
    }

    /// <summary>Computes the validity window with step's defaults and its two error messages.</summary>
    /// <param name="notBefore">The <c>--not-before</c> value, or null.</param>
    /// <param name="notAfter">The <c>--not-after</c> value, or null.</param>
    /// <param name="profile">Profile, for the default validity.</param>
    /// <param name="time">Clock.</param>
    /// <exception cref="PkiException">Unparsable value, inverted window, or already expired.</exception>
    public static (DateTimeOffset NotBefore, DateTimeOffset NotAfter) Resolve(
        string? notBefore, string? notAfter, StepProfile profile, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        var now = StepCertificateFactory.TruncateToSeconds(time.GetUtcNow());
        DateTimeOffset? nb = null, na = null;
        if (!string.IsNullOrEmpty(notBefore))
        {
            nb = ParseTimeOrDuration(notBefore, now) ?? throw new PkiException($"invalid value '{notBefore}' for flag '--not-before'");
        }

        if (!string.IsNullOrEmpty(notAfter))
        {
            na = ParseTimeOrDuration(notAfter, now) ?? throw new PkiException($"invalid value '{notAfter}' for flag '--not-after'");
        }

        if (nb is { } b && na is { } a && b > a)
        {
            throw new PkiException($"flag '--not-before {notBefore}' is incompatible with flag '--not-after {notAfter}'");
        }

        var start = StepCertificateFactory.TruncateToSeconds(nb ?? now);
        var end = StepCertificateFactory.TruncateToSeconds(na ?? start + profile.DefaultValidity());
        if (end < start)
        {
            throw new PkiException($"invalid value '{notAfter}' for flag '--not-after': certificate is already expired");
        }

        return (start, end);
    }

    [GeneratedRegex(@"^(?<base>\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2})(\.\d+)?(?<zone>[Zz]|[+-]\d{2}:\d{2})$")]
    private static partial Regex Rfc3339();
}
