using Identity.Fuzz;
using SharpFuzz;

// identity-fuzz list                      the targets
// identity-fuzz run TARGET                under afl-fuzz: SharpFuzz's persistent loop on stdin; without it, stdin once
// identity-fuzz replay TARGET PATH...     each file (or every file in each folder) once; exit 1 on any finding
// identity-fuzz seed DIR                  writes the synthetic seeds (fuzz/seeds/make-seeds.sh adds the recorded ones)
// identity-fuzz mutate-setup DIR          issuer, anchors and JWKS for a live server (fuzz/mutation-run)
// identity-fuzz mutate ADDR DIR N [SEED]  N mutated Certify requests against it; exit 1 on any contract violation
// identity-fuzz smoke ADDR DIR            one valid and one refused Certify against it (the AOT smoke test)
if (args is ["list"])
{
    foreach (var each in FuzzTargets.All)
    {
        Console.WriteLine($"{each.Name,-14} {each.Description}");
    }

    return 0;
}

if (args is ["seed", var seedDirectory])
{
    Seeds.Write(seedDirectory);
    return 0;
}

if (args is ["mutate-setup", var setupDirectory])
{
    Mutation.Setup(setupDirectory);
    return 0;
}

if (args is ["mutate", var address, var mutateDirectory, var countText, .. var rest] && int.TryParse(countText, out var count))
{
    return Mutation.Run(address, mutateDirectory, count, rest is [var seedText] && int.TryParse(seedText, out var seed) ? seed : 1) == 0 ? 0 : 1;
}

if (args is ["smoke", var smokeAddress, var smokeDirectory])
{
    return Mutation.Smoke(smokeAddress, smokeDirectory) == 0 ? 0 : 1;
}

if (args is ["run", var name] && FuzzTargets.Find(name) is { } fuzzed)
{
    Fuzzer.Run(stream =>
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        fuzzed.Run(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    });
    return 0;
}

if (args is ["replay", var target, .. var paths] && paths.Length > 0 && FuzzTargets.Find(target) is { } replayed)
{
    var findings = 0;
    foreach (var file in paths.SelectMany(p => Directory.Exists(p) ? Directory.EnumerateFiles(p).Order(StringComparer.Ordinal) : (IEnumerable<string>)[p]))
    {
        try
        {
            replayed.Run(File.ReadAllBytes(file));
        }
        catch (Exception e)
        {
            findings++;
            Console.WriteLine($"FINDING {file}: {e.GetType().FullName}: {e.Message}");
            Console.WriteLine(e.StackTrace);
        }
    }

    Console.WriteLine(findings == 0 ? "no findings" : $"{findings} finding(s)");
    return findings == 0 ? 0 : 1;
}

Console.Error.WriteLine("usage: identity-fuzz list | run TARGET | replay TARGET PATH... | seed DIR | mutate-setup DIR | mutate ADDR DIR N [SEED] | smoke ADDR DIR");
Console.Error.WriteLine("targets: " + string.Join(", ", FuzzTargets.All.Select(t => t.Name)));
return 2;
