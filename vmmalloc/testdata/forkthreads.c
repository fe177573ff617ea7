// forkthreads: threads allocate and free without pause while the main
// thread forks again and again; each child allocates, checks and exits.
// A lock held across the fork would hang a child: alarm ends the program
// (a failure) instead.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int stop;

static void *worker(void *arg) {
	unsigned seed = (unsigned)(size_t)arg;
	void *b[64] = {0};
	while (!stop) {
		int i = rand_r(&seed) % 64;
		free(b[i]);
		size_t n = 1 + rand_r(&seed) % (rand_r(&seed) % 8 ? 512 : 65536);
		b[i] = malloc(n);
		memset(b[i], i, n);
	}
	for (int i = 0; i < 64; i++)
		free(b[i]);
	return NULL;
}

int main(int argc, char **argv) {
	int forks = argc > 1 ? atoi(argv[1]) : 20;
	alarm(120);
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, worker, (void *)(size_t)(i + 1));
	int ok = 0;
	for (int f = 0; f < forks; f++) {
		pid_t pid = fork();
		if (pid == 0) {
			char *p[1000];
			for (int i = 0; i < 1000; i++) {
				p[i] = malloc(16 + i * 7);
				memset(p[i], 'c', 16 + i * 7);
			}
			for (int i = 0; i < 1000; i++) {
				for (int k = 0; k < 16 + i * 7; k++)
					if (p[i][k] != 'c')
						_exit(2);
				free(p[i]);
			}
			_exit(0);
		}
		int st;
		waitpid(pid, &st, 0);
		ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	}
	stop = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("%d of %d children ok\n", ok, forks);
	return 0;
}
