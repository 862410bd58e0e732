using Identity.Fuzz;
using Identity.Fuzz.Targets;

namespace Identity.Fuzz.Tests;

/// <summary>
/// The fast suite's share of the fuzzing: every seed in fuzz/corpus and every minimised finding in fuzz/regressions
/// runs through its target (uninstrumented, the same code AFL++ drives), so a regression of any fixed finding fails
/// here without a fuzzing run.
/// </summary>
public sealed class CorpusTests
{
    private static string Fuzz => Path.Combine(TestPaths.SolutionDirectory, "fuzz");

    public static TheoryData<string, string> CommittedInputs()
    {
        var data = new TheoryData<string, string>();
        foreach (var kind in new[] { "corpus", "regressions" })
        {
            foreach (var folder in Directory.EnumerateDirectories(Path.Combine(Fuzz, kind)).Order(StringComparer.Ordinal))
            {
                foreach (var file in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal))
                {
                    data.Add(Path.GetFileName(folder), Path.GetRelativePath(Fuzz, file));
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CommittedInputs))]
    public void Every_committed_input_meets_its_targets_contract(string target, string file)
    {
        var fuzzTarget = FuzzTargets.Find(target);
        Assert.True(fuzzTarget is not null, $"fuzz/{file} is in a folder that names no target");
        fuzzTarget.Run(File.ReadAllBytes(Path.Combine(Fuzz, file)));
    }

    [Fact]
    public void Every_target_has_seeds_and_every_seed_folder_a_target()
    {
        var folders = Directory.EnumerateDirectories(Path.Combine(Fuzz, "corpus")).Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(FuzzTargets.All.Select(t => t.Name).Order(StringComparer.Ordinal), folders);
        Assert.All(FuzzTargets.All, t => Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(Fuzz, "corpus", t.Name))));
    }

    [Fact]
    public void The_regressions_hold_the_black_box_runs_crash_classes_and_each_fuzzer_finding()
    {
        var csr = Directory.EnumerateFiles(Path.Combine(Fuzz, "regressions", "csr")).Select(Path.GetFileName).ToList();
        Assert.Contains("black-box-cn-invalid-utf8.der", csr);
        Assert.Contains("black-box-unknown-curve.der", csr);
        Assert.Contains("inspect-certificate-policies.der", csr);
    }

    [Fact]
    public void A_contract_violation_is_a_finding()
    {
        // The targets' checks must be able to fail: a certificate issued for an identity the token does not prove.
        var server = FuzzServer.Start(s => Microsoft.Extensions.DependencyInjection.ServiceCollectionServiceExtensions
            .AddSingleton<Server.Tokens.ITokenValidator, FuzzTokenValidator>(s));
        var web = FuzzServer.IdentityOf("emojivoto", "web");
        var valid = File.ReadAllBytes(Path.Combine(Fuzz, "corpus", "certify", "valid.bin"));
        var (_, token, csr) = CertifyTarget.Fields(valid);
        var answer = server.Certify(web, token, csr);
        Assert.NotNull(answer.Response);
        server.CheckAnswer(answer, web, web, csr);
        Assert.Throws<ContractViolationException>(() => server.CheckAnswer(answer, web, FuzzServer.IdentityOf("emojivoto", "voting"), csr));
        Assert.Throws<ContractViolationException>(() => server.CheckAnswer(answer, web, null, csr));
    }
}
