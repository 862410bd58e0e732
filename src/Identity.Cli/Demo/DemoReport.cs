namespace Identity.Cli.Demo;

/// <summary>Numbered steps with one ✓/✗ line per expectation; remembers what failed for the summary.</summary>
internal sealed class DemoReport(TextWriter output)
{
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private readonly List<string> _failures = [];
    private int _step;

    public int Checks { get; private set; }

    public IReadOnlyList<string> Failures => _failures;

    public void Step(string title)
    {
        _step++;
        output.WriteLine();
        output.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"[{_step}] {title}  (t+{_clock.Elapsed.TotalSeconds:0.00}s)"));
    }

    public void Info(string text) => output.WriteLine($"      {text}");

    public bool Expect(bool held, string text)
    {
        Checks++;
        output.WriteLine($"    {(held ? "✓" : "✗")} {text}");
        if (!held)
        {
            _failures.Add($"step {_step}: {text}");
        }

        return held;
    }

    public void Fail(string text) => Expect(false, text);

    public void Line(string text = "") => output.WriteLine(text);

    /// <summary>Prints the verdict (and every failed expectation); returns the exit code: 0 only if all held.</summary>
    public int Finish(TimeSpan elapsed)
    {
        var seconds = elapsed.TotalSeconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
        if (_failures.Count == 0 && Checks > 0)
        {
            output.WriteLine($"PASS: all {Checks} expectations held; total time {seconds} s");
            return 0;
        }

        output.WriteLine($"FAIL: {_failures.Count} of {Checks} expectations did not hold; total time {seconds} s");
        foreach (var failure in _failures)
        {
            output.WriteLine($"  ✗ {failure}");
        }

        return 1;
    }
}
