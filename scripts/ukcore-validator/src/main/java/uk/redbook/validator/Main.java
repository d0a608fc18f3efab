package uk.redbook.validator;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.PrePopulatedValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.UnknownCodeSystemWarningValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.CodeSystem;
import org.hl7.fhir.r4.model.StructureDefinition;
import org.hl7.fhir.r4.model.ValueSet;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The HL7 FHIR validator (HAPI FHIR's instance validator, R4) with the UK Core 2.0.0
 * StructureDefinitions, ValueSets and CodeSystems from shared/fhir/ukcore loaded into its
 * support chain. Offline: no terminology server, so membership of SNOMED CT and dm+d
 * codes in their value sets is not checked (reported as warnings or information, which
 * this tool prints but does not fail on). See docs/adr/0011-uk-core.md.
 *
 * <pre>
 *   validate UKCORE_DIR FILE...   each file must have no error; a file named broken-*
 *                                 must have errors, one containing each line of its
 *                                 sidecar FILE.expect
 *   to-json UKCORE_DIR OUT_DIR FILE...   re-encodes FHIR XML as JSON (examples import)
 * </pre>
 */
public final class Main {
    public static void main(String[] args) throws IOException {
        if (args.length < 2) {
            System.err.println("usage: validate UKCORE_DIR FILE... | to-json UKCORE_DIR OUT_DIR FILE...");
            System.exit(2);
        }
        FhirContext ctx = FhirContext.forR4Cached();
        switch (args[0]) {
            case "validate" -> System.exit(validate(ctx, Path.of(args[1]), List.of(args).subList(2, args.length)));
            case "to-json" -> toJson(ctx, Path.of(args[2]), List.of(args).subList(3, args.length));
            default -> {
                System.err.println("unknown command " + args[0]);
                System.exit(2);
            }
        }
    }

    private static String read(Path file) throws IOException {
        return Files.readString(file, StandardCharsets.UTF_8);
    }

    private static IParser parserFor(FhirContext ctx, Path file) {
        return file.toString().endsWith(".xml") ? ctx.newXmlParser() : ctx.newJsonParser();
    }

    private static void toJson(FhirContext ctx, Path outDir, List<String> files) throws IOException {
        Files.createDirectories(outDir);
        IParser json = ctx.newJsonParser().setPrettyPrint(true);
        for (String name : files) {
            Path file = Path.of(name);
            IBaseResource resource = parserFor(ctx, file).parseResource(read(file));
            String base = file.getFileName().toString().replaceFirst("\\.xml$", "");
            Files.writeString(outDir.resolve(base + ".json"), json.encodeResourceToString(resource) + "\n");
        }
    }

    /**
     * UK Core's conformance resources, loaded from its XML files, and this project's own
     * profiles (profiles/, JSON) which derive from them.
     */
    private static PrePopulatedValidationSupport ukCore(FhirContext ctx, Path dir) throws IOException {
        PrePopulatedValidationSupport support = new PrePopulatedValidationSupport(ctx);
        Path ours = Path.of(System.getProperty("redbook.profiles", "profiles"));
        if (Files.isDirectory(ours)) {
            try (Stream<Path> files = Files.list(ours)) {
                for (Path file : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
                    support.addStructureDefinition(ctx.newJsonParser().parseResource(StructureDefinition.class, read(file)));
                }
            }
        }
        IParser xml = ctx.newXmlParser();
        for (String sub : List.of("structuredefinitions", "valuesets", "codesystems")) {
            try (Stream<Path> files = Files.list(dir.resolve(sub))) {
                for (Path file : files.filter(f -> f.toString().endsWith(".xml")).sorted().toList()) {
                    IBaseResource resource = xml.parseResource(read(file));
                    if (resource instanceof StructureDefinition sd) {
                        support.addStructureDefinition(sd);
                    } else if (resource instanceof ValueSet vs) {
                        support.addValueSet(vs);
                    } else if (resource instanceof CodeSystem cs) {
                        support.addCodeSystem(cs);
                    }
                }
            }
        }
        return support;
    }

    private static int validate(FhirContext ctx, Path ukCoreDir, List<String> files) throws IOException {
        UnknownCodeSystemWarningValidationSupport unknownSystems = new UnknownCodeSystemWarningValidationSupport(ctx);
        unknownSystems.setNonExistentCodeSystemSeverity(org.hl7.fhir.common.hapi.validation.support.UnknownCodeSystemWarningValidationSupport.DEFAULT_SEVERITY);
        ValidationSupportChain chain = new ValidationSupportChain(
                ukCore(ctx, ukCoreDir),
                new DefaultProfileValidationSupport(ctx),
                new CommonCodeSystemsTerminologyService(ctx),
                new InMemoryTerminologyServerValidationSupport(ctx),
                new SnapshotGeneratingValidationSupport(ctx),
                unknownSystems);
        FhirInstanceValidator module = new FhirInstanceValidator(chain);
        FhirValidator validator = ctx.newValidator().registerValidatorModule(module);

        int failures = 0;
        for (String name : files) {
            Path file = Path.of(name);
            ValidationResult result = validator.validateWithResult(read(file));
            List<String> errors = new ArrayList<>();
            TreeMap<String, Integer> notes = new TreeMap<>();
            for (SingleValidationMessage m : result.getMessages()) {
                String line = m.getLocationString() + ": " + m.getMessage();
                if (m.getSeverity().ordinal() >= ResultSeverityEnum.ERROR.ordinal()) {
                    errors.add(line);
                } else if (m.getSeverity() == ResultSeverityEnum.WARNING) {
                    notes.merge(m.getMessage().replaceAll("'[^']*'", "'…'"), 1, Integer::sum);
                }
            }
            boolean broken = file.getFileName().toString().startsWith("broken-");
            boolean ok;
            if (broken) {
                Path expectFile = Path.of(name + ".expect");
                List<String> expected = Files.exists(expectFile) ? Files.readAllLines(expectFile) : List.of();
                List<String> missing = expected.stream().filter(e -> !e.isBlank())
                        .filter(e -> errors.stream().noneMatch(err -> err.contains(e))).toList();
                ok = !errors.isEmpty() && missing.isEmpty();
                System.out.printf("%s %s: %d errors, as expected%s%n", ok ? "ok  " : "FAIL", file.getFileName(),
                        errors.size(), missing.isEmpty() ? "" : "; not reported: " + missing);
            } else {
                ok = errors.isEmpty();
                System.out.printf("%s %s: %d errors, %d warnings%n", ok ? "ok  " : "FAIL", file.getFileName(),
                        errors.size(), notes.values().stream().mapToInt(Integer::intValue).sum());
            }
            if (!ok || System.getenv("REDBOOK_VALIDATOR_VERBOSE") != null) {
                errors.forEach(e -> System.out.println("    error " + e));
                notes.forEach((k, v) -> System.out.println("    warning x" + v + " " + k));
            }
            if (!ok) {
                failures++;
            }
        }
        System.out.printf("%d of %d files as expected%n", files.size() - failures, files.size());
        System.out.println("Not checked offline (no terminology server): whether SNOMED CT, LOINC and dm+d"
                + " codes exist and belong to UK Core's value sets; those are warnings above, not errors.");
        return failures == 0 ? 0 : 1;
    }
}
