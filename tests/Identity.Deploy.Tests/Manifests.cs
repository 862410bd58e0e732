using System.Text.Json.Nodes;

namespace Identity.Deploy.Tests;

/// <summary>Lookups over rendered Kubernetes objects.</summary>
internal static class Manifests
{
    public const string Namespace = "linkerd";
    public const string ClusterLabel = "identity.mesh/cluster";

    public static string Kind(JsonNode doc) => (string)doc["kind"]!;

    public static string Name(JsonNode doc) => (string)doc["metadata"]!["name"]!;

    public static string? NamespaceOf(JsonNode doc) => (string?)doc["metadata"]!["namespace"];

    public static string Key(JsonNode doc) => $"{Kind(doc)} {NamespaceOf(doc)}/{Name(doc)}";

    public static JsonObject Find(IEnumerable<JsonObject> docs, string kind, string name)
    {
        var matches = docs.Where(d => Kind(d) == kind && Name(d) == name).ToList();
        Assert.True(matches.Count == 1, $"expected exactly one {kind} {name}, found {matches.Count}");
        return matches[0];
    }

    public static IReadOnlyList<JsonObject> OfKind(IEnumerable<JsonObject> docs, string kind) =>
        [.. docs.Where(d => Kind(d) == kind)];

    public static JsonObject PodSpec(IEnumerable<JsonObject> docs) =>
        Find(docs, "Deployment", "linkerd-identity")["spec"]!["template"]!["spec"]!.AsObject();

    public static JsonObject Container(IEnumerable<JsonObject> docs)
    {
        var containers = PodSpec(docs)["containers"]!.AsArray();
        Assert.Single(containers);
        return containers[0]!.AsObject();
    }

    public static JsonObject ByName(JsonNode? array, string name)
    {
        Assert.NotNull(array);
        var matches = array.AsArray().Where(e => (string?)e!["name"] == name).ToList();
        Assert.True(matches.Count == 1, $"expected one entry named {name} in {array.ToJsonString()}");
        return matches[0]!.AsObject();
    }

    public static List<string> Strings(JsonNode? array) =>
        array is null ? [] : [.. array.AsArray().Select(e => (string)e!)];

    public static Dictionary<string, string> StringMap(JsonNode? obj) =>
        obj is null ? [] : obj.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!);

    /// <summary>True when every pair of <paramref name="selector"/> is among <paramref name="labels"/>.</summary>
    public static bool Selects(JsonNode? selector, JsonNode? labels)
    {
        var wanted = StringMap(selector);
        var have = StringMap(labels);
        return wanted.Count > 0 && wanted.All(p => have.TryGetValue(p.Key, out var v) && v == p.Value);
    }

    /// <summary>The value after a flag in a Go-style `-flag value` argument list.</summary>
    public static string FlagValue(IReadOnlyList<string> args, string flag)
    {
        var index = args.ToList().IndexOf(flag);
        Assert.True(index >= 0 && index + 1 < args.Count, $"flag {flag} with a value not found in [{string.Join(' ', args)}]");
        return args[index + 1];
    }

    public static int Port(string address)
    {
        var colon = address.LastIndexOf(':');
        Assert.True(colon >= 0, $"address {address} has no port");
        return int.Parse(address[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
