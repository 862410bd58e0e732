using System.Text.Json;
using System.Text.Json.Serialization;

namespace Identity.Cli.Check;

/// <summary>Renders check results as a <c>linkerd check</c>-style table or as JSON, and computes the exit code.</summary>
internal static class CheckReport
{
    public const string Ok = "√";
    public const string Warn = "‼";
    public const string Fail = "×";

    // Source-generated (the shipped binary is Native AOT): indented, and text as written, not \u-escaped.
    private static readonly CheckJsonContext Json = new(new JsonSerializerOptions
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });

    /// <summary>1 on any error, or on any warning with <paramref name="strict"/>; else 0.</summary>
    public static int ExitCode(IReadOnlyList<CheckResult> results, bool strict) =>
        results.Any(r => r.Status == CheckStatus.Error || (strict && r.Status == CheckStatus.Warning)) ? 1 : 0;

    public static void WriteTable(TextWriter writer, IReadOnlyList<CheckResult> results, bool strict)
    {
        var first = true;
        foreach (var group in results.GroupBy(r => r.Category))
        {
            if (!first)
            {
                writer.WriteLine();
            }

            first = false;
            writer.WriteLine(group.Key);
            writer.WriteLine(new string('-', group.Key.Length));
            foreach (var result in group)
            {
                writer.WriteLine($"{Marker(result.Status)} {result.Name}");
                if (result.Status == CheckStatus.Ok)
                {
                    continue;
                }

                foreach (var line in result.Message.Split('\n'))
                {
                    writer.WriteLine("    " + line);
                }

                if (result.Hint is not null)
                {
                    writer.WriteLine($"    see https://linkerd.io/2/checks/#{result.Hint} for hints");
                }
            }
        }

        writer.WriteLine();
        var exit = ExitCode(results, strict);
        var hasWarnings = results.Any(r => r.Status == CheckStatus.Warning);
        writer.WriteLine(exit != 0
            ? $"Status check results are {Fail}" + (strict && results.All(r => r.Status != CheckStatus.Error) ? " (warnings fail with --strict)" : string.Empty)
            : $"Status check results are {Ok}" + (hasWarnings ? $" (with warnings {Warn})" : string.Empty));
    }

    public static void WriteJson(TextWriter writer, IReadOnlyList<CheckResult> results)
    {
        var rows = results.Select(r => new JsonRow(r.Category, r.Name, StatusName(r.Status), r.Message)).ToList();
        writer.WriteLine(JsonSerializer.Serialize(rows, Json.ListJsonRow));
    }

    public static string StatusName(CheckStatus status) => status switch
    {
        CheckStatus.Ok => "ok",
        CheckStatus.Warning => "warning",
        _ => "error",
    };

    private static string Marker(CheckStatus status) => status switch
    {
        CheckStatus.Ok => Ok,
        CheckStatus.Warning => Warn,
        _ => Fail,
    };

    internal sealed record JsonRow(
        [property: JsonPropertyName("category")] string Category,
        [property: JsonPropertyName("name")] string Name,
        [property: JsonPropertyName("status")] string Status,
        [property: JsonPropertyName("message")] string Message);
}

[JsonSerializable(typeof(List<CheckReport.JsonRow>))]
internal sealed partial class CheckJsonContext : JsonSerializerContext;
