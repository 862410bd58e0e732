using System.Text.Json.Nodes;
using k8s;
using YamlDotNet.RepresentationModel;

namespace Identity.Cli.Tests;

/// <summary>
/// Reads a manifest the CLI printed into the client library's model. The AOT build of KubernetesClient, which the
/// product ships, keeps its YAML reader internal, so the test converts YAML to JSON (every scalar a string, which is
/// what Secrets and ConfigMaps hold) and lets the library's JSON reader do the rest.
/// </summary>
internal static class KubernetesYaml
{
    public static T Deserialize<T>(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return KubernetesJson.Deserialize<T>(ToJson(stream.Documents.Single().RootNode)!);
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, ToJson(c.Value)))),
        YamlSequenceNode list => new JsonArray([.. list.Children.Select(ToJson)]),
        YamlScalarNode scalar => scalar.Value is null ? null : JsonValue.Create(scalar.Value),
        _ => throw new InvalidOperationException($"unexpected YAML node {node.NodeType}"),
    };
}
