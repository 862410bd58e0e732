namespace Identity.Pki.Time;

/// <summary>
/// A time that prints as <see cref="GoTime.Rfc3339"/>: the log argument type for times, so a log line never shows
/// the machine's culture format and the text is only made when the line is actually written.
/// </summary>
public readonly record struct Rfc3339Time(DateTimeOffset Value)
{
    /// <inheritdoc/>
    public override string ToString() => GoTime.Rfc3339(Value);
}
