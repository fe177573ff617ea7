// fork: the child of a fork writes over its copy of the parent's blocks
// and allocates; the parent's blocks must not change. Then the child
// execs a program (the preload starts afresh in it).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define N 256

static int check(char **b, char v) {
	for (int i = 0; i < N; i++)
		for (int j = 0; j < 1000 + i * 100; j++)
			if (b[i][j] != v)
				return 0;
	return 1;
}

int main(int argc, char **argv) {
	char *b[N];
	for (int i = 0; i < N; i++) {
		b[i] = malloc(1000 + i * 100);
		memset(b[i], 'p', 1000 + i * 100);
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		if (!check(b, 'p'))
			_exit(2);
		for (int i = 0; i < N; i++)
			memset(b[i], 'c', 1000 + i * 100);
		for (int i = 0; i < N; i += 2) {
			free(b[i]);
			b[i] = malloc(1000 + i * 100);
			memset(b[i], 'c', 1000 + i * 100);
		}
		if (!check(b, 'c'))
			_exit(3);
		if (argc > 1)
			execvp(argv[1], argv + 1);
		exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	int ok = check(b, 'p');
	for (int i = 1; i < N; i += 2) {
		free(b[i]);
		b[i] = malloc(1000 + i * 100);
		memset(b[i], 'p', 1000 + i * 100);
	}
	printf("child %s parent %s after %s\n", WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "ok" : "failed",
	       ok ? "intact" : "overwritten", check(b, 'p') ? "intact" : "overwritten");
	return 0;
}
