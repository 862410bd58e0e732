using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using static Identity.Deploy.Tests.Manifests;

namespace Identity.Deploy.Tests;

/// <summary>West and east: one shared anchor, one issuer each, and no other difference.</summary>
public sealed class MultiClusterTests(RenderedDeploy deploy)
{
    [Fact]
    public void West_and_east_differ_only_in_the_cluster_label_and_the_issuer_secret()
    {
        var west = deploy.Rendered("west");
        var east = deploy.Rendered("east");
        Assert.Equal(west.Select(Key), east.Select(Key));

        var westNormalized = west.Select(Normalize).ToList();
        var eastNormalized = east.Select(Normalize).ToList();
        for (var i = 0; i < westNormalized.Count; i++)
        {
            Assert.True(
                JsonNode.DeepEquals(westNormalized[i], eastNormalized[i]),
                $"{Key(west[i])} differs between west and east beyond the intended fields:\n{westNormalized[i].ToJsonString()}\n{eastNormalized[i].ToJsonString()}");
        }

        // ...and the intended differences are really there.
        Assert.NotEqual(
            Find(west, "Secret", "linkerd-identity-issuer")["data"]!.ToJsonString(),
            Find(east, "Secret", "linkerd-identity-issuer")["data"]!.ToJsonString());
    }

    [Fact]
    public void Trust_roots_are_identical_in_both_clusters()
    {
        var west = Find(deploy.Rendered("west"), "ConfigMap", "linkerd-identity-trust-roots");
        var east = Find(deploy.Rendered("east"), "ConfigMap", "linkerd-identity-trust-roots");
        Assert.True(JsonNode.DeepEquals(west["data"], east["data"]));
        Assert.True(JsonNode.DeepEquals(Normalize(west), Normalize(east)));
    }

    [Fact]
    public void Each_clusters_issuer_chains_to_the_shared_anchor_and_pairs_with_its_key()
    {
        foreach (var cluster in RenderedDeploy.Clusters)
        {
            var docs = deploy.Rendered(cluster);
            var bundle = StringMap(Find(docs, "ConfigMap", "linkerd-identity-trust-roots")["data"])["ca-bundle.crt"];
            var data = StringMap(Find(docs, "Secret", "linkerd-identity-issuer")["data"]);
            var crt = Encoding.UTF8.GetString(Convert.FromBase64String(data["crt.pem"]));
            var key = Encoding.UTF8.GetString(Convert.FromBase64String(data["key.pem"]));

            // Throws when the key in the Secret does not belong to the certificate beside it.
            using var issuer = X509Certificate2.CreateFromPem(crt, key);
            Assert.True(issuer.HasPrivateKey);

            var anchors = new X509Certificate2Collection();
            anchors.ImportFromPem(bundle);
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(anchors);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            var built = chain.Build(issuer);
            Assert.True(built, $"{cluster} issuer does not chain to the shared anchor: " +
                string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
            foreach (var anchor in anchors)
            {
                anchor.Dispose();
            }
        }

        // Distinct issuers: a leaked west key must not sign for east.
        Assert.NotEqual(deploy.Issuer("west").Key, deploy.Issuer("east").Key);
    }

    /// <summary>The object with the intended per-cluster fields removed.</summary>
    private static JsonNode Normalize(JsonObject doc)
    {
        var copy = doc.DeepClone().AsObject();
        StripClusterMetadata(copy["metadata"]);
        StripClusterMetadata(copy["spec"]?["template"]?["metadata"]);
        if (Kind(copy) == "Secret" && Name(copy) == "linkerd-identity-issuer")
        {
            copy.Remove("data");
        }

        return copy;
    }

    private static void StripClusterMetadata(JsonNode? metadata)
    {
        if (metadata is not JsonObject obj)
        {
            return;
        }

        foreach (var field in new[] { "labels", "annotations" })
        {
            if (obj[field] is JsonObject map)
            {
                map.Remove(ClusterLabel);
                if (map.Count == 0)
                {
                    obj.Remove(field);
                }
            }
        }
    }
}
