using System.Globalization;

namespace Identity.Pki.Time;

/// <summary>Times printed the way Go prints them, so messages read like step's and Linkerd's.</summary>
public static class GoTime
{
    /// <summary>RFC 3339 in UTC with second precision, as Go's <c>time.RFC3339</c> prints a UTC time.</summary>
    public static string Rfc3339(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
