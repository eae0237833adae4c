# A synthetic course roster for the import benchmark (scripts/bench.d/import):
#   awk -v n=1000000 -f scripts/bench.d/npi.awk -f scripts/bench.d/roster.awk > roster.csv
# n rows after a header line, every row good: n distinct people (distinct
# emails; 40 % with a distinct NPI with a valid check digit), eligible
# professions written as codes and as aliases in mixed case, level DN1,
# 384 distinct sessions (48 start dates x 8 locations, some locations
# quoted because they hold a comma), completed yes/no.  Deterministic: the
# same n gives the same file.  Plain POSIX awk (mawk is fast enough: about
# 1 s per 300,000 rows).
BEGIN {
	if (n == "") n = 1000000
	ng = split("Ava Liam Noah Emma Olivia Mia Lucas Amelia Ethan Harper Mateo Sofia Elijah Aria Chen Priya Omar Zoe Jamal Ingrid", given, " ")
	nf = split("Smith Johnson Garcia Nguyen O'Brien Martinez Lee Patel Kowalski Okafor Schmidt Rossi Haddad Kim Larsen Dubois Silva Novak Cohen Tanaka", family, " ")
	np = split("PT|Physical Therapist|DPT|pt|NP|FNP-C|Nurse Practitioner|PA|PA-C|physician assistant|MD|Physician|M.D.|DO|D.O.|DC|Chiropractor|dc", prof, "|")
	ns = split("CA TX NY FL WA OR CO IL MA GA AZ NC", state, " ")
	nl = split("Denver|\"Portland, OR\"|Austin|\"Boston, MA\"|Chicago|Seattle|\"Atlanta, GA\"|Phoenix", loc, "|")
	print "given_name,family_name,email,npi,profession,license_state,license_number,level,course_start,course_end,location,completed"
	for (i = 1; i <= n; i++) {
		g = given[i % ng + 1]
		f = family[int(i / ng) % nf + 1]
		s = i % 384			# the session: date x location
		dt = int(s / nl)		# 0..47: month 1..12, day 3/10/17/24
		mo = int(dt / 4) + 1
		dy = (dt % 4) * 7 + 3
		printf "%s,%s,%s.%s.%d@example.org,%s,%s,%s,L%07d,DN1,2025-%02d-%02d,2025-%02d-%02d,%s,%s\n",
		    g, f, tolower(g), tolower(f), i,
		    (i % 5 < 2 ? npi(i) : ""),
		    prof[i % np + 1], state[i % ns + 1], i,
		    mo, dy, mo, dy + 2, loc[s % nl + 1],
		    (i % 3 == 0 ? "no" : "yes")
	}
}
