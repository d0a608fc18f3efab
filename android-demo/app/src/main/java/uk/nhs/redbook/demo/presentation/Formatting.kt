// What the screens say, worded once: dates, ages, authors, badges. Plain Kotlin, no
// Android imports, so it is compiled and tested on the desktop JVM (scripts/kotlin-tests.sh).
package uk.nhs.redbook.demo.presentation

import java.time.LocalDate
import java.time.Period
import java.time.format.DateTimeFormatter
import java.util.Locale
import uk.nhs.redbook.Author
import uk.nhs.redbook.Role
import uk.nhs.redbook.Verification

private val DAY_MONTH_YEAR = DateTimeFormatter.ofPattern("d MMM yyyy", Locale.UK)

/** "2025-12-14" -> "14 Dec 2025"; text that is not an ISO date is shown as it came. */
fun formatDate(isoDate: String): String =
    runCatching { LocalDate.parse(isoDate).format(DAY_MONTH_YEAR) }.getOrDefault(isoDate)

/** "3 years 4 months", "7 months", "3 weeks", "4 days": as a health visitor says it. */
fun ageText(birthDate: String, today: LocalDate): String {
    val birth = runCatching { LocalDate.parse(birthDate) }.getOrNull() ?: return ""
    if (today.isBefore(birth)) return "not born yet"
    val period = Period.between(birth, today)
    val months = period.toTotalMonths().toInt()
    val days = today.toEpochDay() - birth.toEpochDay()
    fun plural(n: Long, unit: String) = if (n == 1L) "1 $unit" else "$n ${unit}s"
    return when {
        months == 0 && days < 14 -> plural(days, "day")
        months == 0 -> plural(days / 7, "week")
        months < 24 -> plural(months.toLong(), "month")
        months % 12 == 0 -> plural((months / 12).toLong(), "year")
        else -> "${plural((months / 12).toLong(), "year")} ${plural((months % 12).toLong(), "month")}"
    }
}

fun roleLabel(role: Role): String = when (role) {
    Role.PARENT -> "parent"
    Role.CARER -> "carer"
    Role.MIDWIFE -> "midwife"
    Role.HEALTH_VISITOR -> "health visitor"
    Role.GP -> "GP"
    Role.NURSE -> "nurse"
}

/** What the app shows beside an entry's author. Invalid is shown, never hidden. */
enum class Badge(val label: String) {
    VERIFIED("verified"),
    UNVERIFIED("not verified"),
    INVALID("signature does not match"),
    NOT_PERMITTED("written without the right to write"),
}

fun badgeOf(verification: Verification): Badge = when (verification) {
    Verification.VERIFIED -> Badge.VERIFIED
    Verification.UNVERIFIED -> Badge.UNVERIFIED
    Verification.INVALID -> Badge.INVALID
    Verification.NOT_PERMITTED -> Badge.NOT_PERMITTED
}

/** "Nurse Patel (nurse, RQX)". */
fun authorLine(author: Author): String {
    val role = roleLabel(author.role)
    val where = author.organisation?.let { ", $it" } ?: ""
    return "${author.displayName} ($role$where)"
}

/** NHS numbers are read in groups of 3, 3 and 4: "943 476 5919". */
fun spacedNhsNumber(number: String): String =
    if (number.length == 10 && number.all { it.isDigit() }) {
        "${number.substring(0, 3)} ${number.substring(3, 6)} ${number.substring(6)}"
    } else {
        number
    }
