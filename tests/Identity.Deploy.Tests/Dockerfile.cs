namespace Identity.Deploy.Tests;

/// <summary>One instruction of a Dockerfile, with continuation lines joined.</summary>
internal sealed record DockerInstruction(int Stage, string Keyword, string Arguments);

/// <summary>
/// A small Dockerfile reader: enough to check stages, USER, EXPOSE, COPY and ENTRYPOINT where no Docker
/// engine is available to build the image.
/// </summary>
internal static class DockerfileReader
{
    public static IReadOnlyList<DockerInstruction> Parse(string text)
    {
        var instructions = new List<DockerInstruction>();
        var stage = -1;
        var pending = string.Empty;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r').Trim();
            if (pending.Length == 0 && (line.Length == 0 || line.StartsWith('#')))
            {
                continue;
            }

            if (pending.Length > 0 && line.StartsWith('#'))
            {
                continue;
            }

            if (line.EndsWith('\\'))
            {
                pending += line[..^1].Trim() + " ";
                continue;
            }

            var full = (pending + line).Trim();
            pending = string.Empty;
            if (full.Length == 0)
            {
                continue;
            }

            var space = full.IndexOf(' ', StringComparison.Ordinal);
            var keyword = (space < 0 ? full : full[..space]).ToUpperInvariant();
            var arguments = space < 0 ? string.Empty : full[(space + 1)..].Trim();
            if (keyword == "FROM")
            {
                stage++;
            }

            instructions.Add(new DockerInstruction(stage, keyword, arguments));
        }

        Assert.True(pending.Length == 0, "Dockerfile ends with a line continuation");
        return instructions;
    }
}
