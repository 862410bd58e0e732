namespace Identity.Cli.Check;

/// <summary>Outcome of one check, as printed (√ / ‼ / ×) and as serialized in <c>--output json</c>.</summary>
internal enum CheckStatus
{
    Ok,
    Warning,
    Error,
}

/// <summary>
/// How a failed check is reported. Mirrors <c>linkerd check</c>: a failed <see cref="Fatal"/> check stops the
/// rest of its category (later checks would only repeat the same root cause), <see cref="Error"/> fails the
/// run, <see cref="Warning"/> does not (unless <c>--strict</c>).
/// </summary>
internal enum CheckSeverity
{
    Fatal,
    Error,
    Warning,
}

/// <summary>One line of the report.</summary>
/// <param name="Category">The group, e.g. <c>linkerd-identity</c>.</param>
/// <param name="Name">The check description, worded as in <c>linkerd check</c> where one exists.</param>
/// <param name="Status">The outcome.</param>
/// <param name="Message">Details; lines are separated by <c>\n</c>. Never contains key material.</param>
/// <param name="Hint">The <c>linkerd.io/2/checks</c> anchor for checks Linkerd also runs, else null.</param>
internal sealed record CheckResult(string Category, string Name, CheckStatus Status, string Message, string? Hint = null);
