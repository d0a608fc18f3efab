// The Android demo. The Rust library and its Kotlin bindings come from the repository
// root (see README.md): jniLibs from cargo-ndk, the Android variant of the bindings from
// scripts/generate-bindings.sh.
plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
    id("org.jetbrains.kotlin.plugin.compose")
    id("de.mannodermaus.android-junit5")
}

android {
    namespace = "uk.nhs.redbook.demo"
    compileSdk = 35

    defaultConfig {
        applicationId = "uk.nhs.redbook.demo"
        minSdk = 26
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
    }

    sourceSets["main"].apply {
        // Generated, never committed: bash scripts/generate-bindings.sh
        java.srcDir("../../target/bindings/kotlin-android")
        // The Compose screens, shared with the desktop test host (scripts/ui-tests.sh).
        java.srcDir("../ui/src/main/java")
        // libredbook_ffi.so per ABI: cargo ndk ... -o android-demo/app/src/main/jniLibs
        jniLibs.srcDir("src/main/jniLibs")
    }

    buildFeatures { compose = true }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }

    packaging {
        // The app's own library and JNA's; nothing stripped that UniFFI looks up by name.
        jniLibs.keepDebugSymbols += "**/libredbook_ffi.so"
    }
}

dependencies {
    // UniFFI's Kotlin needs JNA (the Android AAR carries libjnidispatch per ABI).
    implementation("net.java.dev.jna:jna:5.15.0@aar")
    // Compose 1.8.2, the version the desktop UI tests run (ui/desktop/pom.xml).
    implementation(platform("androidx.compose:compose-bom:2025.05.01"))
    implementation("androidx.compose.material3:material3")
    implementation("androidx.compose.ui:ui")
    implementation("androidx.activity:activity-compose:1.9.3")
    implementation("androidx.core:core-ktx:1.15.0")
    // The bindings' long calls are suspend functions; lifecycleScope runs them from the Activity.
    implementation("androidx.lifecycle:lifecycle-runtime-ktx:2.8.7")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.8.0")
    // QR codes: drawing (zxing core) and scanning (zxing-android-embedded).
    implementation("com.google.zxing:core:3.5.3")
    implementation("com.journeyapps:zxing-android-embedded:4.3.0")

    // The presentation tests run on the desktop JVM against a host build of the library
    // (cargo build; -Djna.library.path=../../target/debug), as scripts/kotlin-tests.sh does.
    testImplementation("net.java.dev.jna:jna:5.15.0")
    testImplementation(kotlin("test-junit5"))
    testImplementation("org.junit.jupiter:junit-jupiter:5.11.4")
}

tasks.withType<Test> {
    systemProperty("jna.library.path", rootDir.resolve("../target/debug").path)
}
