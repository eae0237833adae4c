# A synthetic exam results sheet for the import benchmark
# (scripts/bench.d/import), for the people of roster.awk's roster of the
# same n:
#   awk -v n=100000 -f scripts/bench.d/npi.awk -f scripts/bench.d/results.awk > results.csv
# n rows after a header line, every row good: the written and the practical
# exam of level DN1 for the first n/2 people of the roster (by NPI when
# they have one, else by email), taken the day their course ended, scored
# 50..99 of 100 (the seed's pass mark is 75: about half pass each exam;
# the people whose course is completed and who pass both are owed a
# certificate).  Deterministic: the same n gives the same file.
BEGIN {
	if (n == "") n = 1000000
	ng = split("Ava Liam Noah Emma Olivia Mia Lucas Amelia Ethan Harper Mateo Sofia Elijah Aria Chen Priya Omar Zoe Jamal Ingrid", given, " ")
	nf = split("Smith Johnson Garcia Nguyen O'Brien Martinez Lee Patel Kowalski Okafor Schmidt Rossi Haddad Kim Larsen Dubois Silva Novak Cohen Tanaka", family, " ")
	print "npi,email,level,kind,score,max_score,taken_on"
	for (r = 0; r < n; r++) {
		i = int(r / 2) + 1
		g = given[i % ng + 1]
		f = family[int(i / ng) % nf + 1]
		s = i % 384
		dt = int(s / 8)
		mo = int(dt / 4) + 1
		dy = (dt % 4) * 7 + 3
		if (i % 5 < 2)
			who = npi(i) ","
		else
			who = "," tolower(g) "." tolower(f) "." i "@example.org"
		printf "%s,DN1,%s,%d,100,2025-%02d-%02d\n", who,
		    (r % 2 == 0 ? "written" : "practical"),
		    50 + (i * 37 + (r % 2) * 11) % 50, mo, dy + 2
	}
}
